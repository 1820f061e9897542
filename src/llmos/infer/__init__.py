"""llmos.infer: generation (sampling, KV-cached decoding) and batched serving engines."""
from llmos.infer.engine import Engine, EngineBusy, EngineConfig
from llmos.infer.generate import Completion, complete, generate, stream
from llmos.infer.request import Delta, FinishReason, RequestHandle, Result, TokenLogprob
from llmos.infer.sampling import GenerationConfig, process_logits, sample

__all__ = ["Completion", "complete", "generate", "stream", "GenerationConfig", "process_logits", "sample",
           "Engine", "EngineConfig", "EngineBusy", "Delta", "FinishReason", "RequestHandle", "Result", "TokenLogprob"]
