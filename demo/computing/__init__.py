"""What the tabs compute: the endpoints' functions, the computations behind them (the model math is in
``mlvae.latent``), live pooling, the model's description, and the guard every computation runs under."""
