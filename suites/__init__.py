"""asv benchmark suites of matloss (``benchmark_dir`` in asv.conf.json). See README "Speed benchmarks"."""
