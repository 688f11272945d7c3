"""The fuzzing harness of journeymap (issue #12); ``python fuzz/run.py --help``."""
