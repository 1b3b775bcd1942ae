"""The scheduled daemon: ``sageconnect run``. The only package importing apscheduler."""
