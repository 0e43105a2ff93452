"""What every stage shares: the vocabulary's terms and files, the dump files (the one contract between
the write side and the read side), atomic output, embedded assets and progress."""
