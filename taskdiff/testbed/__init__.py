"""A controlled multilingual testbed: synthetic languages, a small pretrained encoder, planted tasks."""
