// Package rfb is an RFB (VNC) client: the screen and keyboard of a machine reached through a
// KVM-over-IP device (PiKVM's VNC server, a BMC's KVM) or QEMU's own VNC server. It speaks
// RFB 3.3/3.7/3.8 (RFC 6143) with no authentication or VNC authentication (DES), and decodes
// the encodings such devices send: Raw, CopyRect, Tight (fill, JPEG, and the basic zlib
// modes with the copy, palette and gradient filters — PiKVM's server sends Tight/JPEG only,
// QEMU's sends all of them) and the DesktopSize pseudo-encoding, so a mode change of the
// guest does not force a reconnect. Key events carry X keysyms.
//
// It is written on the Go standard library (image/jpeg, compress/zlib, crypto/des) rather
// than taken from a module: docs/screen.md says why (the Go RFB clients found either do not
// decode Tight/JPEG or are no longer maintained) and what was tested against what.
//
// A Client keeps one framebuffer, updated by a reader goroutine that asks for incremental
// updates continuously as VNC viewers do; Screendump returns a copy of the last complete
// update. Every allocation is bounded by the protocol's own limits and the caps below, so
// a hostile or broken server cannot make the harness allocate without bound.
package rfb
