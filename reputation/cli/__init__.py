"""The `reputation` command line: the app and the commands that live beside it (doctor, scaffold, analyze, bench)."""
