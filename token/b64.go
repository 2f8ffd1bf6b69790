package token

import "encoding/binary"

// b64dec maps the base64url alphabet to its values; everything else is
// 0xff.
var b64dec = func() (t [256]byte) {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alpha); i++ {
		t[alpha[i]] = byte(i)
	}
	return t
}()

// decodeSeg decodes an unpadded base64url segment into buf, strictly: no
// padding, no whitespace or line breaks (which encoding/base64 skips even
// in Strict mode), no standard-alphabet characters, zero trailing bits.
// It reuses buf when its capacity suffices; on error it returns buf
// (perhaps grown, its contents unspecified) with ErrMalformed.
func decodeSeg(buf []byte, seg string) ([]byte, error) {
	n := len(seg)
	if n%4 == 1 {
		return buf, ErrMalformed
	}
	out := n/4*3 + [4]int{0, 0, 1, 2}[n%4]
	if cap(buf) < out {
		buf = make([]byte, out)
	}
	buf = buf[:out]
	d := &b64dec
	s, b := seg, buf
	// 8 characters give 6 bytes, written as one uint64 while its 2 spare
	// bytes still fall inside buf (they are overwritten next).
	for len(s) >= 8 && len(b) >= 8 {
		c0, c1, c2, c3 := d[s[0]], d[s[1]], d[s[2]], d[s[3]]
		c4, c5, c6, c7 := d[s[4]], d[s[5]], d[s[6]], d[s[7]]
		if (c0|c1|c2|c3|c4|c5|c6|c7)&0xc0 != 0 { // 0xff marks a byte outside the alphabet
			return buf, ErrMalformed
		}
		v := uint64(c0)<<58 | uint64(c1)<<52 | uint64(c2)<<46 | uint64(c3)<<40 |
			uint64(c4)<<34 | uint64(c5)<<28 | uint64(c6)<<22 | uint64(c7)<<16
		binary.BigEndian.PutUint64(b, v)
		s, b = s[8:], b[6:]
	}
	for len(s) >= 4 && len(b) >= 3 {
		c0, c1, c2, c3 := d[s[0]], d[s[1]], d[s[2]], d[s[3]]
		if (c0|c1|c2|c3)&0xc0 != 0 {
			return buf, ErrMalformed
		}
		v := uint(c0)<<18 | uint(c1)<<12 | uint(c2)<<6 | uint(c3)
		b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v)
		s, b = s[4:], b[3:]
	}
	// What is left is 2 or 3 characters for 1 or 2 bytes, whose unused
	// low bits must be zero.
	switch {
	case len(s) == 2 && len(b) == 1:
		c0, c1 := d[s[0]], d[s[1]]
		if (c0|c1)&0xc0 != 0 || c1&0x0f != 0 {
			return buf, ErrMalformed
		}
		b[0] = c0<<2 | c1>>4
	case len(s) == 3 && len(b) == 2:
		c0, c1, c2 := d[s[0]], d[s[1]], d[s[2]]
		if (c0|c1|c2)&0xc0 != 0 || c2&0x03 != 0 {
			return buf, ErrMalformed
		}
		b[0], b[1] = c0<<2|c1>>4, c1<<4|c2>>2
	}
	return buf, nil
}
