"""Moments review UI: `streamlit run ui/app.py` (or `moments ui`, or `moments up`).

One page per job; everything goes through the Moments API at MOMENTS_API_URL with the key the
manager signs in with. Until then only the sign-in page exists.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts only ui/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui.client import api_url  # noqa: E402
from ui.components import NAME, ROLE, escape_md, sign_out, signed_in  # noqa: E402

st.set_page_config(page_title="Moments", page_icon="💬", layout="wide")

if not signed_in():
    page = st.navigation(
        [st.Page("pages/signin.py", title="Sign in", icon=":material/key:", url_path="signin")],
        position="hidden",
    )
else:
    page = st.navigation(
        {
            "Review": [
                st.Page(
                    "pages/queue.py",
                    title="Queue",
                    icon=":material/inbox:",
                    url_path="queue",
                    default=True,
                ),
                st.Page(
                    "pages/review.py",
                    title="Review a draft",
                    icon=":material/rate_review:",
                    url_path="review",
                ),
            ],
            "Incidents": [
                st.Page(
                    "pages/crisis.py", title="Crisis", icon=":material/campaign:", url_path="crisis"
                ),
            ],
            "Setup": [
                st.Page(
                    "pages/knowledge.py",
                    title="Knowledge",
                    icon=":material/menu_book:",
                    url_path="knowledge",
                ),
                st.Page(
                    "pages/evals.py", title="Evals", icon=":material/insights:", url_path="evals"
                ),
            ],
        }
    )
    with st.sidebar:
        who = st.session_state.get(NAME)
        role = st.session_state.get(ROLE, "reviewer")
        st.caption(
            f"Signed in as **{escape_md(who)}** ({role})" if who else f"Signed in as **{role}**"
        )
        st.caption(f"API {api_url()}")
        if st.button("Sign out", key="sign_out", type="tertiary"):
            sign_out()
            st.rerun()

page.run()
