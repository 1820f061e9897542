"""llmos.infer: generation (sampling, KV-cached decoding) and batched serving engines."""
from llmos.infer.generate import Completion, complete, generate, stream
from llmos.infer.sampling import GenerationConfig, process_logits, sample

__all__ = ["Completion", "complete", "generate", "stream", "GenerationConfig", "process_logits", "sample"]
