"""Sign in with a reviewer or admin key; checked with `GET /v1/me`, which also says who the key
is and its role."""

from __future__ import annotations

import streamlit as st

from ui.client import MomentsClient, UIError, api_url
from ui.components import KEY, NAME, ROLE, show_error

st.title("Moments")
st.caption("The review desk for community managers: drafts wait here until a person approves them.")

left, _ = st.columns([2, 3])
with left, st.form("sign_in", border=True):
    st.subheader("Sign in")
    key = st.text_input(
        "API key (reviewer or admin)",
        type="password",
        help="`moments keys create --role reviewer --name you` makes one; `moments up` prints "
        "a local admin key.",
    )
    submitted = st.form_submit_button("Sign in", type="primary")

if submitted:
    if not key.strip():
        left.error("Enter your API key.")
    else:
        probe = MomentsClient(api_url(), key.strip())
        try:
            me = probe.sign_in()
        except UIError as exc:
            if exc.status == 401:
                left.error("That key is not valid (unknown or revoked). Check it and try again.")
            elif exc.status == 403:
                left.error(
                    "That key cannot review drafts (it is a plugin key). "
                    "Ask an admin for a reviewer key."
                )
            else:
                show_error(exc, where=left)
        else:
            st.session_state[KEY] = key.strip()
            st.session_state[ROLE] = me["role"]
            st.session_state[NAME] = me.get("name")
            st.rerun()
        finally:
            probe.close()

left.caption(
    "Running `moments up`? It printed a local admin key, also kept in "
    "`<data dir>/local-admin.key`. Reviewers get their own: "
    "`moments keys create --role reviewer`."
)
left.caption(f"API: {api_url()}")
