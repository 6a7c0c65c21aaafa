"""The worker side, out of the web layer: loop, email dispatch, mail transports, jobs."""
