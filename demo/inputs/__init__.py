"""Uploads and drawings -> model inputs: which files a request may name, preparing a photo as the checkpoint's
training images were (digits framed the MNIST way), prepared photos remembered, the swap tab's group labels."""
