#!/usr/bin/env python3
"""Publish a test picture and tone to a WHIP endpoint with GStreamer's webrtcbin (not a browser).

Usage: gst-whip-publish.py WHIP_URL BEARER_TOKEN
Runs until killed (SIGTERM/SIGINT), then DELETEs the WHIP session. Prints "published <location>"
once the SFU answered, and "connected" when ICE connects. Loopback only: libnice's UPnP is off and
only 127.0.0.1 host candidates are offered.
"""
import os
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

PIPELINE = (
    "webrtcbin name=sendrecv bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 ! videoconvert ! "
    "vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=300000 ! rtpvp8pay pt=96 ! "
    "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! sendrecv. "
    "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 ! "
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! sendrecv. "
)


def main() -> int:
    url, token = sys.argv[1], sys.argv[2]
    Gst.init(None)
    loop = GLib.MainLoop()
    pipe = Gst.parse_launch(PIPELINE)
    webrtc = pipe.get_by_name("sendrecv")
    state = {"location": None}

    # libnice: no UPnP port mapping (nothing leaves this machine).
    agent = webrtc.get_property("ice-agent")
    if agent is not None and agent.find_property("agent") is not None:
        agent.get_property("agent").set_property("upnp", False)
    # libnice leaves loopback out by default; offer it (and, below, only it).
    if agent is not None:
        agent.emit("add-local-ip-address", "127.0.0.1")

    def on_gathering(element, _pspec):
        if element.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            return
        if state["location"] is not None or state.get("sent"):
            return
        state["sent"] = True
        offer = element.get_property("local-description").sdp.as_text()
        # Loopback only: drop candidates on other interfaces.
        lines = [l for l in offer.split("\r\n") if not (l.startswith("a=candidate:") and " 127.0.0.1 " not in l)]
        if os.environ.get("GST_WHIP_DEBUG"):
            print("\r\n".join(lines), flush=True)
        req = urllib.request.Request(
            url,
            data="\r\n".join(lines).encode(),
            method="POST",
            headers={"content-type": "application/sdp", "authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=15) as res:
                answer = res.read().decode()
                state["location"] = urllib.parse.urljoin(url, res.headers.get("location"))
        except urllib.error.HTTPError as err:
            print(f"WHIP refused: {err.code} {err.read().decode()}", flush=True)
            loop.quit()
            return
        _, sdp = GstSdp.SDPMessage.new_from_text(answer)
        element.emit("set-remote-description", GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp), None)
        print(f"published {state['location']}", flush=True)

    def on_offer(promise, element, _):
        promise.wait()
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply is not None and reply.has_field("offer") else None
        if offer is None:
            print(f"could not create an offer: {reply.to_string() if reply else 'no reply'}", flush=True)
            return
        element.emit("set-local-description", offer, None)

    def on_negotiation_needed(element):
        promise = Gst.Promise.new_with_change_func(on_offer, element, None)
        element.emit("create-offer", None, promise)

    def on_ice_state(element, _pspec):
        if element.get_property("ice-connection-state") == GstWebRTC.WebRTCICEConnectionState.CONNECTED:
            print("connected", flush=True)

    webrtc.connect("on-negotiation-needed", on_negotiation_needed)
    webrtc.connect("notify::ice-gathering-state", on_gathering)
    webrtc.connect("notify::ice-connection-state", on_ice_state)

    def stop(*_):
        if state["location"]:
            try:
                urllib.request.urlopen(urllib.request.Request(state["location"], method="DELETE"), timeout=5).read()
            except Exception:  # noqa: BLE001 - leaving anyway
                pass
        loop.quit()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pipe.set_state(Gst.State.PLAYING)
    # Make the transceivers send-only (WHIP).
    i = 0
    while (transceiver := webrtc.emit("get-transceiver", i)) is not None:
        transceiver.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        i += 1
    try:
        loop.run()
    finally:
        pipe.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
