package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// bindStreamKey makes a continued stream that omits the Unique Identifier use
// the key the Correlation Value is bound to (call.uid).
func bindStreamKey(c *call, st streamStep) { c.streamKey = st.prev.keyID }

// cipherOp runs one Encrypt or Decrypt request or streamed part.
func (s *Service) cipherOp(ctx context.Context, c *call, use keyUse, enc bool) (*kmip.Item, error) {
	ciph, err := capability[ports.Cipher](s)
	if err != nil {
		return nil, err
	}
	req, err := codec.DecodeCrypto(c.payload)
	if err != nil {
		return nil, err
	}
	data, err := codec.DecodeCipher(c.payload, enc)
	if err != nil {
		return nil, err
	}
	st, err := s.readStream(ctx, c, req)
	if err != nil {
		return nil, err
	}
	bindStreamKey(c, st)
	obj, key, err := s.useKey(ctx, c, use)
	if err != nil {
		return nil, err
	}
	p, err := paramsFor(req.Params, obj)
	if err != nil {
		return nil, err
	}
	in, err := cipherInput(data, st)
	if err != nil {
		return nil, err
	}
	if enc {
		if err := s.checkEncryptIV(ctx, c, obj, p, in); err != nil {
			return nil, err
		}
	}
	if err := checkCipherParams(c, obj, p, in); err != nil {
		return nil, err
	}
	if enc {
		if err := s.spendUsage(ctx, c, obj, len(in.Data)); err != nil {
			return nil, err
		}
	}
	var out ports.CipherOutput
	if enc {
		out, err = ciph.Encrypt(ctx, key, p, in)
	} else {
		out, err = ciph.Decrypt(ctx, key, p, in)
	}
	if err != nil {
		return nil, engineError(err)
	}
	return s.cipherAnswer(ctx, c, st, obj.ID, in, out, enc)
}

// cipherInput is the cipher's input: the request's Data, IV/Counter/Nonce,
// Additional Data and (Decrypt) Authenticated Encryption Tag, and the
// stream's state.
func cipherInput(req codec.CipherRequest, st streamStep) (ports.CipherInput, error) {
	if !req.HasData && !st.streaming {
		return ports.CipherInput{}, missingData("Data is required")
	}
	in := ports.CipherInput{Data: req.Data, IV: req.IV, AAD: req.AAD, Tag: req.Tag}
	in.Partial = st.streaming && !st.last
	in.State = st.prev.state
	return in, nil
}

// checkCipherParams refuses parameters the operation cannot run with: a
// missing IV the mode needs, authenticated encryption before KMIP 1.4, a
// tag length no AEAD mode has.
func checkCipherParams(c *call, obj *domain.Object, p ports.CryptoParams, in ports.CipherInput) error {
	if err := missingIV(c, p, in); err != nil {
		return err
	}
	aead := p.BlockCipherMode == uint32(kmip.BlockCipherModeGCM) || p.BlockCipherMode == uint32(kmip.BlockCipherModeAEAD)
	if err := aeadNeeds14(c, obj, aead); err != nil {
		return err
	}
	if aead && p.TagLength != 0 && (p.TagLength < 4 || p.TagLength > 16) {
		// No GCM tag is shorter than 32 or longer than 128 bits (NIST SP
		// 800-38D §5.2.1.2), no Poly1305 tag longer than 128; the OASIS
		// cases answer General Failure (CS-BC-M-GCM-1, CS-BC-M-CHACHA20POLY1305-1).
		return errorf(kmip.ResultReasonGeneralFailure, "invalid authenticated encryption tag length %d", p.TagLength)
	}
	return nil
}

// cipherAnswer is the response payload of an Encrypt or Decrypt; a
// streamed part that is not the last saves the stream's state and answers
// its Correlation Value.
func (s *Service) cipherAnswer(ctx context.Context, c *call, st streamStep, id string, in ports.CipherInput, out ports.CipherOutput, enc bool) (*kmip.Item, error) {
	resp := codec.CipherResponse{ID: id, Data: out.Data, WithData: !st.streaming}
	if enc {
		resp.IV, resp.Tag = out.IV, out.Tag
	}
	if in.Partial {
		cv, err := s.saveStream(ctx, c, st, id, out.State)
		if err != nil {
			return nil, err
		}
		resp.Correlation = cv
	}
	return resp.Item(), nil
}

// aeadNeeds14 refuses authenticated encryption before KMIP 1.4: the
// Authenticated Encryption Tag and Additional Data are 1.4 fields, so an
// earlier answer could not carry the tag and would leave a cipher text
// nobody can decrypt.
func aeadNeeds14(c *call, obj *domain.Object, aeadMode bool) error {
	alg, _ := obj.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	if (aeadMode || alg == uint32(kmip.CryptographicAlgorithmChaCha20Poly1305)) && !c.v.atLeast(1, 4) {
		return errorf(kmip.ResultReasonFeatureNotSupported,
			"authenticated encryption (GCM, ChaCha20-Poly1305) needs KMIP 1.4 or later, which carries the Authenticated Encryption Tag")
	}
	return nil
}

// checkEncryptIV keeps Encrypt from decrypting. In the stream-like modes
// (CTR, OFB, CFB, GCM, CCM, ChaCha20 and ChaCha20-Poly1305) encrypting
// another party's ciphertext under the IV/Counter/Nonce it was made with
// returns its plaintext, and in CBC a chosen IV confirms guesses of it; RC4
// has no IV at all, so its encryption is its decryption. Hence:
//   - where the parameters say Random IV (the key's, or the request's) the
//     server generates the IV and refuses one from any client (Invalid Field,
//     as kmipd answered before for the request's own Random IV);
//   - a caller who may not Decrypt with the key (its policy's Decrypt rule,
//     or a key whose usage mask lacks Decrypt) may not give an
//     IV/Counter/Nonce in any mode, the server generates it, and may not
//     encrypt with an RC4 key: Permission Denied.
func (s *Service) checkEncryptIV(ctx context.Context, c *call, obj *domain.Object, p ports.CryptoParams, in ports.CipherInput) error {
	if in.IV != nil && p.RandomIV {
		return invalidField("IV/Counter/Nonce given although Random IV is set")
	}
	if s.mayDecrypt(ctx, c, obj) {
		return nil
	}
	if in.IV != nil {
		return errorf(kmip.ResultReasonPermissionDenied, "only a client that may decrypt with the key may choose the IV/Counter/Nonce; omit it and the server generates one")
	}
	alg, _ := obj.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	if kmip.CryptographicAlgorithm(alg) == kmip.CryptographicAlgorithmRC4 || kmip.CryptographicAlgorithm(p.CryptographicAlgorithm) == kmip.CryptographicAlgorithmRC4 {
		return errorf(kmip.ResultReasonPermissionDenied, "RC4 encryption decrypts: only a client that may decrypt with the key may use it")
	}
	return nil
}

// mayDecrypt reports whether the caller may Decrypt with obj: the object's
// policy allows it and the key's usage mask has Decrypt.
func (s *Service) mayDecrypt(ctx context.Context, c *call, obj *domain.Object) bool {
	mask, _ := obj.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	return uint32(mask)&uint32(kmip.CryptographicUsageMaskDecrypt) != 0 &&
		s.authorize(ctx, c, obj, kmip.OperationDecrypt) == nil
}

// missingIV refuses a Decrypt that starts without the IV/Counter/Nonce its
// mode needs: Invalid Message, as the OASIS cases answer in KMIP 1.4 and 2.1
// alike (CS-BC-M-11, -12, -13), rather than 2.1's Missing Initialization Vector.
func missingIV(c *call, p ports.CryptoParams, in ports.CipherInput) error {
	if c.op == kmip.OperationDecrypt && in.IV == nil && in.State == nil && needsIV(p.BlockCipherMode) {
		return errorf(kmip.ResultReasonInvalidMessage, "IV/Counter/Nonce is required to decrypt in this mode")
	}
	return nil
}

// needsIV reports whether a block cipher mode takes an IV, counter or nonce.
func needsIV(mode uint32) bool {
	switch kmip.BlockCipherMode(mode) {
	case kmip.BlockCipherModeCBC, kmip.BlockCipherModePCBC, kmip.BlockCipherModeCFB, kmip.BlockCipherModeOFB,
		kmip.BlockCipherModeCTR, kmip.BlockCipherModeCCM, kmip.BlockCipherModeGCM, kmip.BlockCipherModeAEAD:
		return true
	}
	return false
}

// gatherData takes the Data (or Digested Data) of a request that may be
// streamed and returns all data so far, at most maxStreamData bytes when
// streamed; done is false for a part that is not the last, whose response
// carries only the Correlation Value.
func gatherData(r codec.DataRequest, st streamStep) (data []byte, digested, done bool, err error) {
	d, hasData := r.Data, r.HasData
	if r.HasDigested {
		if hasData {
			return nil, false, false, invalidField("Data and Digested Data are exclusive")
		}
		if st.streaming {
			return nil, false, false, invalidField("Digested Data cannot be streamed")
		}
		return r.Digested, true, true, nil
	}
	if !hasData && !st.streaming {
		return nil, false, false, missingData("Data is required")
	}
	if !st.streaming {
		return d, false, true, nil
	}
	if len(st.prev.state)+len(d) > maxStreamData {
		return nil, false, false, invalidField("streamed data exceeds %d bytes", maxStreamData)
	}
	all := append(append([]byte(nil), st.prev.state...), d...)
	return all, false, st.last, nil
}

// partial stores the data so far of a streamed part that is not the last and
// answers it with the Correlation Value.
func (s *Service) partial(ctx context.Context, c *call, st streamStep, keyID string, data []byte) (*kmip.Item, error) {
	cv, err := s.saveStream(ctx, c, st, keyID, data)
	if err != nil {
		return nil, err
	}
	return codec.PartialResponse(keyID, cv), nil
}

// dataOp is a Sign, Signature Verify, MAC or MAC Verify request whose data
// is complete: the key it uses, the parameters and the data (all parts of a
// stream gathered).
type dataOp struct {
	obj      *domain.Object
	key      ports.KeyHandle
	p        ports.CryptoParams
	data     []byte
	digested bool
	// check is what a verification checks (Signature Data, MAC Data).
	check    []byte
	hasCheck bool
	// foreign says the request's parameters contradict the key's (a
	// verification only): nothing made with this key under them is valid.
	foreign bool
}

// readDataOp runs the steps the four data operations share: it decodes the
// request (Digested Data when digestOK, the field check names), continues
// the stream, checks the key for use, reads the parameters and the data.
// When the request is a part that is not the last, it returns the partial
// response instead of an operation.
func (s *Service) readDataOp(ctx context.Context, c *call, use keyUse, digestOK bool, check kmip.Tag) (*dataOp, *kmip.Item, error) {
	req, err := codec.DecodeCrypto(c.payload)
	if err != nil {
		return nil, nil, err
	}
	dr, err := codec.DecodeData(c.payload, digestOK, check)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.readStream(ctx, c, req)
	if err != nil {
		return nil, nil, err
	}
	bindStreamKey(c, st)
	obj, key, err := s.useKey(ctx, c, use)
	if err != nil {
		return nil, nil, err
	}
	// A signature or MAC made under parameters the key does not allow was
	// not made by this key's rightful use: verifying under them answers
	// Invalid (dataOp.foreign) rather than an error, as OASIS CS-AC-M-3
	// expects of a hash other than the key's.
	p, consistent, err := keyParams(req.Params, obj)
	if err == nil && !consistent && !use.process {
		err = paramsConflict()
	}
	if err != nil {
		return nil, nil, err
	}
	data, digested, done, err := gatherData(dr, st)
	if err != nil {
		return nil, nil, err
	}
	if !done {
		resp, err := s.partial(ctx, c, st, obj.ID, data)
		return nil, resp, err
	}
	return &dataOp{obj: obj, key: key, p: p, data: data, digested: digested, foreign: !consistent,
		check: dr.Check, hasCheck: dr.HasCheck}, nil, nil
}
