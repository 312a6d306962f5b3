"""Scheduling: cron expressions turned into crontab lines or systemd timers."""
