"""llmos.train.align: supervised fine-tuning, reward models, RLHF with PPO, and DPO.

    from llmos.train.align import train_sft, train_reward, train_ppo, train_dpo
"""
from llmos.train.align.data import DataError, PreferencePair, SFTExample, load_pairs, load_prompts, load_sft
from llmos.train.align.dpo import DPOConfig, dpo_loss, train_dpo
from llmos.train.align.heads import RewardModel, ScalarHead
from llmos.train.align.logprobs import sequence_logprobs
from llmos.train.align.ppo import PPOConfig, gae, kl_penalized_rewards, policy_loss, train_ppo, value_loss
from llmos.train.align.reward import RewardConfig, reward_function, reward_loss, train_reward
from llmos.train.align.rollout import sample_rollouts
from llmos.train.align.sft import SFTConfig, train_sft

__all__ = ["DataError", "PreferencePair", "SFTExample", "load_pairs", "load_prompts", "load_sft",
           "DPOConfig", "dpo_loss", "train_dpo", "RewardModel", "ScalarHead", "sequence_logprobs",
           "PPOConfig", "gae", "kl_penalized_rewards", "policy_loss", "train_ppo", "value_loss",
           "RewardConfig", "reward_function", "reward_loss", "train_reward", "sample_rollouts",
           "SFTConfig", "train_sft"]
