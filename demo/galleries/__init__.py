"""What the galleries hold: their values' paths and captions, the example sets, examples giving way to the user's
own photos, and each kind of model's inputs kept across model switches."""
