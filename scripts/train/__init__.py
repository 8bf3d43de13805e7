"""One module per shipped model; each defines main(argv) and writes its bundle under models/."""
