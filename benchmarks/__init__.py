"""MedStation benchmarks: ``make bench`` (or ``python -m benchmarks [name ...]``) prints figures, asserts nothing.

Each ``bench_*.py`` module defines ``run(report)``; ``report(name, value, unit, goal=None, note="")`` prints one
figure. Where possible a figure is given beside a reference run in the same process (a ratio), since these machines
are shared and noisy.
"""
