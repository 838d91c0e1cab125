package live

import rtmp "github.com/ertmp/rtmp"

// RequestReconnect asks every RTMP publisher that advertised
// CAPS_EX_RECONNECT in connect (rtmp.Capabilities.Reconnect) to reconnect,
// with the Enhanced RTMP v2 ReconnectRequest (a NetConnection onStatus
// NetConnection.Connect.ReconnectRequest, see
// rtmp.PublishSession.SendReconnectRequest): to tcURL, or to the tcUrl it
// used when tcURL is empty, with description. It returns the IDs of the
// sessions asked (see Sessions), for a drain to wait for them to leave.
// Publishers of other protocols, and RTMP publishers that cannot
// reconnect, are left alone.
func (h *Hub) RequestReconnect(tcURL, description string) (asked []uint64) {
	h.mu.Lock()
	var pubs []*Publication
	for _, st := range h.streams {
		st.mu.Lock()
		if st.pub != nil {
			pubs = append(pubs, st.pub)
		}
		st.mu.Unlock()
	}
	h.mu.Unlock()
	for _, p := range pubs {
		if p.sess.Request == nil || !p.sess.Capabilities.Reconnect() {
			continue
		}
		p.rmu.Lock()
		ps := p.rtmpSession
		if ps == nil {
			// Taken by the hub, not yet answered: asked once it is.
			p.reconnect = &[2]string{tcURL, description}
		}
		p.rmu.Unlock()
		if ps == nil || ps.SendReconnectRequest(tcURL, description) == nil {
			asked = append(asked, p.sess.ID)
		}
	}
	return asked
}

// setRTMPSession records an accepted RTMP publisher's session and sends
// a reconnect request that came before.
func (p *Publication) setRTMPSession(ps *rtmp.PublishSession) {
	p.rmu.Lock()
	p.rtmpSession = ps
	r := p.reconnect
	p.rmu.Unlock()
	if r != nil {
		ps.SendReconnectRequest(r[0], r[1])
	}
}
