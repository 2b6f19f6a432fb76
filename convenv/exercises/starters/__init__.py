"""Starter files of the course exercises, copied by ``convenv exercise start N``; each also runs on its own."""
