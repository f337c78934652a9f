"""Results out: decoded images laid out as contact sheets, their axes labelled, written as PNG files Gradio serves."""
