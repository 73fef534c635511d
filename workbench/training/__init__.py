"""Training small networks to watch: models, built-in datasets, the training loop (pause,
stop, callbacks), one-call experiments with a tracker attached, a background training session
for UIs, and an optional Lightning callback."""
