"""The Gradio demo of mlvae: builds the interface around ``mlvae``'s latent operations (no model math here).

``python app.py`` launches it; ``demo.cli.main`` parses the command line; ``demo.app.build_app`` builds it.
"""
