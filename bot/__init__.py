"""The product's processes: the CLI, delivery, the scheduler and the chat apps."""
