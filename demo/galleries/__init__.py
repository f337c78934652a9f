"""What the galleries hold: the example sets, examples giving way to the user's own photos, and each kind of
model's inputs kept across model switches (a gallery value's paths and captions: ``demo.inputs.gallery_values``)."""
