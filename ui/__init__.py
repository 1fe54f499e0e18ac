"""The Streamlit review UI (`moments ui`); it talks to the Moments API only."""
