"""Every registered env passes PettingZoo's API and seed tests and convenv's own checker."""

import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test

import convenv
from convenv.utils import check_env
from convenv.wrappers import StudentEnv

ENV_IDS = [spec.id for spec in convenv.registry]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pettingzoo_parallel_api(env_id):
    env = convenv.make(env_id)
    parallel_api_test(env, num_cycles=50)
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pettingzoo_seed(env_id):
    envs = []

    def factory():
        envs.append(convenv.make(env_id))
        return envs[-1]

    parallel_seed_test(factory, num_cycles=20)
    for env in envs:
        env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_convenv_check_env(env_id):
    env = convenv.make(env_id)
    check_env(env, pettingzoo=False)
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_student_env_passes_gymnasium_check_env(env_id):
    env = StudentEnv(convenv.make(env_id))
    gym_check_env(env, skip_render_check=True)
    env.close()


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_over_many_seeds(env_id):
    env = convenv.make(env_id)
    check_env(env, seed=100, episodes=30)
    env.close()


@pytest.mark.slow
@pytest.mark.parametrize("teacher", ["verdict", "direction", "locate", "hints"])
def test_math_tutor_check_env_for_every_scripted_teacher(teacher):
    env = convenv.make("MathTutor-v0", teacher=teacher, max_turns=4)
    check_env(env, seed=100, episodes=40)
    env.close()
