"""One aiohttp node of the cluster: the seed's SMS login with a switchable session store."""
