"""The README's front matter is a Hugging Face Space configuration the Hub accepts (its documented rules)."""
import re

import yaml

from tests.conftest import REPO

# https://huggingface.co/docs/hub/spaces-config-reference
KNOWN_KEYS = {
    "title", "emoji", "colorFrom", "colorTo", "sdk", "sdk_version", "python_version", "app_file", "app_port",
    "base_path", "fullWidth", "header", "short_description", "models", "datasets", "tags", "thumbnail", "pinned",
    "hf_oauth", "hf_oauth_scopes", "hf_oauth_expiration_minutes", "hf_oauth_authorized_org", "disable_embedding",
    "startup_duration_timeout", "custom_headers", "preload_from_hub", "license", "suggested_hardware",
    "suggested_storage",
}
COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def front_matter() -> dict:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n"), "README.md must start with the Space's YAML front matter"
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_front_matter_follows_the_space_configuration_rules():
    config = front_matter()
    assert set(config) <= KNOWN_KEYS, set(config) - KNOWN_KEYS
    assert len(config["short_description"]) <= 60, len(config["short_description"])
    assert config["sdk"] == "gradio" and config["colorFrom"] in COLOURS and config["colorTo"] in COLOURS
    assert (REPO / config["app_file"]).is_file()
    pinned = re.search(r"^gradio==(\S+)$", (REPO / "requirements.txt").read_text(), re.MULTILINE)
    assert pinned and config["sdk_version"] == pinned.group(1)
    assert str(config["python_version"]) == "3.11"
