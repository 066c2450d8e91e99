"""Runner of the rlzoo study: train one Stable-Baselines3 agent with the RL Zoo's tuned
hyperparameters, then evaluate its deterministic policy as the Zoo's benchmark does.

The hyperparameters come from the ``rl-zoo3`` wheel's YAML files (artifacts ``zoo-<algo>``);
Stable-Baselines3 and Gymnasium come from the ``stable-baselines3`` code artifact, which the
harness puts on the import path together with its locked dependencies.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import hyperparams


def train_and_evaluate(ctx):
    params = ctx.params
    algo, env_id = params["algo"], params["env"]
    zoo = hyperparams.load(ctx.artifact(f"zoo-{algo}"), env_id)
    budget = int(params.get("timesteps") or zoo.timesteps)

    import torch
    from stable_baselines3 import A2C, DQN, PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.vec_env import VecNormalize

    # One thread per run: the workflow runs several runs side by side, and one thread keeps
    # CPU runs bit-identical per seed.
    torch.set_num_threads(1)
    train_env = make_vec_env(env_id, n_envs=zoo.n_envs, seed=ctx.seed)
    if zoo.normalize:
        train_env = VecNormalize(train_env, gamma=zoo.kwargs.get("gamma", 0.99), **zoo.normalize)
    model_class = {"ppo": PPO, "a2c": A2C, "dqn": DQN}[algo]
    model = model_class(zoo.policy, train_env, seed=ctx.seed, device="cpu", verbose=0,
                        **zoo.kwargs)
    # SB3's default logger makes a folder in the system's temp directory for every model;
    # this one writes the training log (progress.csv) into the run's own folder instead.
    model.set_logger(configure(str(Path(ctx.workdir) / "sb3-log"), ["csv"]))
    started = time.perf_counter()
    model.learn(total_timesteps=budget)
    train_s = time.perf_counter() - started

    # Evaluation episodes are seeded apart from training, from the run's seed.
    eval_env = make_vec_env(env_id, n_envs=1, seed=ctx.seed + 10_000)
    if zoo.normalize:
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False)
        eval_env.obs_rms = train_env.obs_rms
    rewards, lengths = evaluate_policy(model, eval_env, n_eval_episodes=params["eval_episodes"],
                                       deterministic=True, return_episode_rewards=True)
    return {
        "metrics": {"mean_reward": float(sum(rewards) / len(rewards)),
                    "min_reward": float(min(rewards)), "train_time_s": train_s},
        "folds": [{"fold": i, "episode_reward": float(r), "episode_length": int(n)}
                  for i, (r, n) in enumerate(zip(rewards, lengths, strict=True))],
        "extra": {"timesteps": budget, "zoo_timesteps": zoo.timesteps, "n_envs": zoo.n_envs,
                  "hyperparameters": zoo.as_record()},
    }
