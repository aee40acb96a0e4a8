"""Transfer: tasks, readers, models, training, zero-shot evaluation, run store, gains."""
