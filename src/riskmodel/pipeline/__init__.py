"""The default end-to-end job behind ``make run``: world, features, training, reports, list."""
