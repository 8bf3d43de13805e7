"""One module per real data source (see ../shared/DATA.md); each defines fetch(dest)."""
