"""Files minit5 writes and reads: one file at a time (`atomic_file`), a folder of files that
change together (`atomic_directory`, checkpoints), one writer per run folder (`folder_lock`),
and text read a line at a time (`text_lines`). Nothing here knows about models or training."""
from minit5.io.atomic_directory import atomic_directory, checkpoint_file, read_whole, try_recover
from minit5.io.atomic_file import write_atomic, write_bytes, write_json, write_text
from minit5.io.folder_lock import FolderInUse, hold_folder
from minit5.io.text_lines import DuplicateKeyError, loads_json, numbered_lines

__all__ = ["atomic_directory", "checkpoint_file", "read_whole", "try_recover", "write_atomic",
           "write_bytes", "write_json", "write_text", "FolderInUse", "hold_folder",
           "DuplicateKeyError", "loads_json", "numbered_lines"]
