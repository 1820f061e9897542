"""llmos.hub: read and write Hugging Face format model folders."""
from llmos.hub.families import UnsupportedArchitecture
from llmos.hub.pretrained import (CheckpointError, generation_eos_ids, load_config, load_model, load_pretrained,
                                  load_tokenizer, read_hf_config, resolve_model_dir, save_pretrained)

__all__ = ["UnsupportedArchitecture", "CheckpointError", "generation_eos_ids", "load_config", "load_model", "load_pretrained",
           "load_tokenizer", "read_hf_config", "resolve_model_dir", "save_pretrained"]
