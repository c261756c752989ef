"""Files minit5 writes: one file at a time (`atomic_file`) or a folder of files that change
together (`atomic_directory`, checkpoints). Nothing here knows about models or training."""
from minit5.io.atomic_directory import atomic_directory, checkpoint_file, try_recover
from minit5.io.atomic_file import write_atomic, write_bytes, write_json, write_text

__all__ = ["atomic_directory", "checkpoint_file", "try_recover", "write_atomic", "write_bytes",
           "write_json", "write_text"]
