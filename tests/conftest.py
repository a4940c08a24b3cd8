pytest_plugins = ["wsis_devstack.pytest_plugin"]
