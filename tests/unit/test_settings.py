import pytest

from node.settings import ENV, Settings, SettingsError, mask_password


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert (settings.session_store, settings.login_code_ttl, settings.login_user_ttl) == ("redis", 120, 1800)


def test_every_variable_is_read_and_typed() -> None:
    settings = Settings.from_env(
        {
            "NODE_NAME": "node7",
            "NODE_PORT": "9001",
            "SESSION_STORE": "memory",
            "REDIS_URL": "redis://10.0.0.1:6379/2",
            "DATABASE_URL": "postgresql://u:p@db/x",
            "SMS_OUTBOX": "off",
            "LOGIN_CODE_TTL": "60",
            "LOGIN_USER_TTL": "600",
            "SHUTDOWN_TIMEOUT": "2.5",
        }
    )
    assert settings.node_name == "node7"
    assert settings.port == 9001
    assert settings.session_store == "memory"
    assert settings.sms_outbox is False
    assert (settings.login_code_ttl, settings.login_user_ttl, settings.shutdown_timeout) == (60, 600, 2.5)


def test_the_env_table_names_every_field() -> None:
    import dataclasses

    assert {d.name for d in ENV.values()} == {f.name for f in dataclasses.fields(Settings)}


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("SESSION_STORE", "sticky"),
        ("NODE_PORT", "http"),
        ("NODE_PORT", "70000"),
        ("SMS_OUTBOX", "maybe"),
        ("LOGIN_USER_TTL", "0"),
        ("REDIS_URL", "http://x"),
        ("DATABASE_URL", "mysql://x"),
        ("NODE_NAME", "node 1"),
        ("REPLICATION_PEERS", "127.0.0.1:8082"),
        ("REPLICATION_DELAY_MS", "-1"),
        ("REDIS_SENTINELS", "127.0.0.1"),
        ("REDIS_SENTINELS", "127.0.0.1:0"),
        ("REDIS_SENTINELS", ","),
        ("REDIS_CLUSTER_SEEDS", "::1:7000"),
        ("REDIS_CLUSTER", "cluster"),
    ],
)
def test_a_bad_value_is_refused_with_its_name(var: str, value: str) -> None:
    with pytest.raises(SettingsError, match=var):
        Settings.from_env({var: value})


def test_passwords_are_masked_in_what_is_logged() -> None:
    settings = Settings(database_url="postgresql://postgres:s3cret@127.0.0.1:5432/db")
    assert "s3cret" not in str(settings.redacted())
    assert mask_password("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_replication_peers_are_a_comma_separated_list() -> None:
    settings = Settings.from_env(
        {
            "SESSION_STORE": "replicated",
            "SECRET_KEY": "k",
            "REPLICATION_PEERS": "http://127.0.0.1:8082, http://127.0.0.1:8083,",
        }
    )
    assert settings.replication_peers == ("http://127.0.0.1:8082", "http://127.0.0.1:8083")


def test_replication_needs_the_shared_secret_key() -> None:
    # Without it a peer could not tell a change from the cluster from a forged one.
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({"SESSION_STORE": "replicated"})


def test_a_topology_is_told_by_sentinels_or_cluster_seeds() -> None:
    sentinel = Settings.from_env(
        {"REDIS_SENTINELS": "127.0.0.1:26379, [::1]:26380,redis-s3:26381", "REDIS_SENTINEL_MASTER": "m"}
    )
    assert sentinel.redis_sentinels == (("127.0.0.1", 26379), ("::1", 26380), ("redis-s3", 26381))
    assert (sentinel.redis_topology, sentinel.redis_sentinel_master) == ("sentinel", "m")
    cluster = Settings.from_env({"REDIS_CLUSTER": "on", "REDIS_CLUSTER_SEEDS": "127.0.0.1:7000"})
    assert (cluster.redis_topology, cluster.redis_cluster_seeds) == ("cluster", (("127.0.0.1", 7000),))
    assert Settings().redis_topology == "single"


def test_sentinel_and_cluster_exclude_each_other() -> None:
    with pytest.raises(SettingsError, match="exclude each other"):
        Settings.from_env({"REDIS_SENTINELS": "127.0.0.1:26379", "REDIS_CLUSTER": "on"})
    # A cluster's seeds come from REDIS_URL when not given: a socket path cannot be one.
    with pytest.raises(SettingsError, match="REDIS_CLUSTER_SEEDS"):
        Settings.from_env({"REDIS_CLUSTER": "on", "REDIS_URL": "unix:///run/redis.sock"})
    for url in ("redis://127.0.0.1:7000/3", "redis://127.0.0.1:7000/0?db=3"):
        with pytest.raises(SettingsError, match="database 0 only"):
            Settings.from_env({"REDIS_CLUSTER": "on", "REDIS_URL": url})
    # Seeds given: REDIS_URL (a socket path here) is asked only for the password.
    seeded = {
        "REDIS_CLUSTER": "on",
        "REDIS_CLUSTER_SEEDS": "127.0.0.1:7000",
        "REDIS_URL": "unix:///run/r.sock",
    }
    assert Settings.from_env(seeded).redis_topology == "cluster"
