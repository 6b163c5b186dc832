"""What the command scripts and the tests share: waiting for a condition, a
user's login, a throwaway cluster, locust runs and the reports they save."""
