package app

import (
	"context"
	"math/big"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// checkPrimeField refuses a Prime Field Size that is not a prime of at most
// maxPrimeFieldBits bits; the length is checked before any arithmetic, and
// the request's deadline before and after the primality test.
func checkPrimeField(ctx context.Context, prime *big.Int) error {
	if prime == nil || prime.Sign() <= 0 {
		return invalidField("Polynomial Sharing Prime Field needs a prime Prime Field Size")
	}
	if prime.BitLen() > maxPrimeFieldBits {
		return invalidField("Prime Field Size has %d bits, more than the %d kmipd allows", prime.BitLen(), maxPrimeFieldBits)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	prime32 := prime.ProbablyPrime(32)
	if err := ctx.Err(); err != nil {
		return err
	}
	if !prime32 {
		return invalidField("Polynomial Sharing Prime Field needs a prime Prime Field Size")
	}
	return nil
}

// createSplitKey implements Create Split Key.
func (s *Service) createSplitKey(ctx context.Context, c *call) (*kmip.Item, error) {
	t, err := objectType(c)
	if err != nil {
		return nil, err
	}
	if t != kmip.ObjectTypeSplitKey {
		return nil, badObjectType("Create Split Key makes Split Key objects, not %s", t)
	}
	req, err := codec.DecodeCreateSplitKey(c.payload)
	if err != nil {
		return nil, err
	}
	if req.Wrapping {
		// Splitting wraps nothing: a wrapping asked for is refused, not ignored.
		return nil, invalidField("Create Split Key does not wrap: a Key Wrapping Specification is not accepted")
	}
	attrs, err := s.requestedAttrs(ctx, c)
	if err != nil {
		return nil, err
	}
	sp, err := splitRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	secret, block, err := s.splitSource(ctx, c, req.KeyGiven, attrs)
	if err != nil {
		return nil, err
	}
	if err := sp.fits(secret); err != nil {
		return nil, err
	}
	shares, err := s.split(ctx, sp.method, secret, int(sp.parts), int(sp.threshold), sp.prime)
	if err != nil {
		return nil, err
	}
	var ids []string
	for i, share := range shares {
		obj, err := s.newObject(ctx, c, kmip.ObjectTypeSplitKey, attrs)
		if err != nil {
			return nil, err
		}
		if s.cfg.StrictNames && sp.parts > 1 && obj.AttrOf(kmip.TagName) != nil {
			// Every part would carry the Name, and a Name identifies one object.
			return nil, nameTaken()
		}
		obj.Payload = sp.part(int32(i+1), share, block)
		if err := s.storeNew(ctx, c, obj); err != nil {
			return nil, err
		}
		ids = append(ids, obj.ID)
	}
	return codec.IDsResponse(ids), nil
}

// splitSpec is how a Create Split Key request splits its key.
type splitSpec struct {
	parts, threshold int32
	method           kmip.SplitKeyMethod
	prime            *big.Int // Prime Field Size, or nil
}

// splitRequest checks a Create Split Key request's Split Key Parts,
// Threshold, Method and Prime Field Size.
func splitRequest(ctx context.Context, req codec.CreateSplitKeyRequest) (splitSpec, error) {
	parts, threshold := req.Parts, req.Threshold
	if parts < 1 || parts > maxSplitParts || threshold < 1 || threshold > parts {
		return splitSpec{}, invalidField("Split Key Threshold must be between 1 and Split Key Parts (at most %d)", maxSplitParts)
	}
	sp := splitSpec{parts: parts, threshold: threshold, method: req.Method, prime: req.Prime}
	switch sp.method {
	case kmip.SplitKeyMethodXOR:
		if threshold != parts {
			return splitSpec{}, invalidField("XOR splitting needs every part: Split Key Threshold must equal Split Key Parts")
		}
	case kmip.SplitKeyMethodPolynomialSharingGF2_8, kmip.SplitKeyMethodPolynomialSharingGF2_16:
	case kmip.SplitKeyMethodPolynomialSharingPrimeField:
		if err := checkPrimeField(ctx, sp.prime); err != nil {
			return splitSpec{}, err
		}
	default:
		return splitSpec{}, errorf(kmip.ResultReasonFeatureNotSupported, "Split Key Method %s is not supported", sp.method)
	}
	return sp, nil
}

// fits refuses a secret the split cannot carry.
func (sp splitSpec) fits(secret []byte) error {
	if len(secret) > maxSplitKeyBytes {
		return valueTooLarge("the key has %d bytes; kmipd splits keys of at most %d", len(secret), maxSplitKeyBytes)
	}
	if sp.method == kmip.SplitKeyMethodPolynomialSharingGF2_16 && len(secret)%2 != 0 {
		return invalidField("Polynomial Sharing GF(2^16) splits keys of whole 16-bit pieces")
	}
	if sp.prime != nil && new(big.Int).SetBytes(secret).Cmp(sp.prime) >= 0 {
		return invalidField("Prime Field Size must exceed the key")
	}
	return nil
}

// part is the Split Key payload of part id, holding share and the split
// key's Cryptographic Algorithm and Length from block.
func (sp splitSpec) part(id int32, share []byte, block *kmip.Item) *kmip.Item {
	kb := kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, share)),
		block.Child(kmip.TagCryptographicAlgorithm).Clone(),
		block.Child(kmip.TagCryptographicLength).Clone())
	sk := kmip.Struct(kmip.TagSplitKey,
		kmip.Int(kmip.TagSplitKeyParts, sp.parts),
		kmip.Int(kmip.TagKeyPartIdentifier, id),
		kmip.Int(kmip.TagSplitKeyThreshold, sp.threshold),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(sp.method)))
	if sp.prime != nil {
		sk.Add(kmip.Big(kmip.TagPrimeFieldSize, sp.prime))
	}
	return sk.Add(kb)
}

// splitSource returns the key to split and a key block carrying its
// Cryptographic Algorithm and Length: the object the request names, or a
// new symmetric key made from the request's attributes (attrs) when it
// names none (named false).
func (s *Service) splitSource(ctx context.Context, c *call, named bool, attrs []domain.Attribute) ([]byte, *kmip.Item, error) {
	if named {
		id, err := c.uid()
		if err != nil {
			return nil, nil, err
		}
		// Splitting hands out the key material: the policy's Get rule governs it.
		obj, err := s.loadAs(ctx, c, id, kmip.OperationGet)
		if err != nil {
			return nil, nil, err
		}
		// The shares are the key in the clear: Sensitive and non-Extractable
		// keys are not split.
		if err := checkRelease(obj, false); err != nil {
			return nil, nil, err
		}
		if obj, err = s.withKeyValue(ctx, obj); err != nil {
			return nil, nil, err
		}
		return rawKey(obj)
	}
	tmp, err := s.newObject(ctx, c, kmip.ObjectTypeSymmetricKey, attrs)
	if err != nil {
		return nil, nil, err
	}
	alg, okA := tmp.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	length, okL := tmp.AttrOf(kmip.TagCryptographicLength).AsInt()
	if !okA || !okL {
		return nil, nil, invalidField("without a key to split, Cryptographic Algorithm and Length are required")
	}
	mask, _ := tmp.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	key, err := s.cfg.Crypto.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{ID: tmp.ID, Algorithm: alg, Length: int(length), UsageMask: mask})
	if err != nil {
		return nil, nil, keygenError(err, kmip.CryptographicAlgorithm(alg), length)
	}
	if key.Ref != "" { // an HSM made it: read it out, and leave no key behind
		tmp.KeyRef = key.Ref
		k, ok := s.keeper()
		if !ok {
			return nil, nil, usableError(errNotKept)
		}
		h := ports.KeyHandle{ID: tmp.ID, ObjectType: tmp.Type, Algorithm: alg, Length: int(length), Ref: key.Ref}
		out, err := k.ExportKey(ctx, h)
		s.forgetKept(ctx, tmp)
		if err != nil {
			return nil, nil, err
		}
		key.Material = out.Material
	}
	return key.Material, kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagCryptographicAlgorithm, alg), kmip.Int(kmip.TagCryptographicLength, length)), nil
}

// rawKey returns the raw key material of a symmetric key or secret data.
func rawKey(obj *domain.Object) ([]byte, *kmip.Item, error) {
	t := kmip.ObjectType(obj.Type)
	if t != kmip.ObjectTypeSymmetricKey && t != kmip.ObjectTypeSecretData {
		return nil, nil, domain.ErrNotApplicable
	}
	if obj.Payload == nil {
		return nil, nil, errorf(kmip.ResultReasonItemNotFound, "object has been destroyed")
	}
	kb := obj.Payload.Child(kmip.TagKeyBlock)
	f, _ := kb.Child(kmip.TagKeyFormatType).AsEnum()
	if kmip.KeyFormatType(f) == kmip.KeyFormatTypeOpaque {
		b, ok := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		if ok {
			return b, kb, nil
		}
	}
	raw, err := keyformat.Convert(kb, kmip.KeyFormatTypeRaw, keyformat.Uncompressed)
	if err != nil {
		return nil, nil, invalidField("the key cannot be split: %v", err)
	}
	b, _ := raw.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	return b, kb, nil
}

// split computes the shares of secret.
func (s *Service) split(ctx context.Context, method kmip.SplitKeyMethod, secret []byte, parts, threshold int, prime *big.Int) ([][]byte, error) {
	switch method {
	case kmip.SplitKeyMethodXOR:
		return s.splitXOR(ctx, secret, parts)
	case kmip.SplitKeyMethodPolynomialSharingGF2_8, kmip.SplitKeyMethodPolynomialSharingGF2_16:
		return s.splitBinaryField(ctx, fields[method], secret, parts, threshold)
	case kmip.SplitKeyMethodPolynomialSharingPrimeField:
		return s.splitPrimeField(ctx, secret, parts, threshold, prime)
	}
	return make([][]byte, parts), nil
}

// splitXOR makes parts shares that XOR to secret: all random but the last.
func (s *Service) splitXOR(ctx context.Context, secret []byte, parts int) ([][]byte, error) {
	shares := make([][]byte, parts)
	last := append([]byte(nil), secret...)
	for i := 0; i < parts-1; i++ {
		r, err := s.cfg.Crypto.RandomBytes(ctx, len(secret))
		if err != nil {
			return nil, err
		}
		shares[i] = r
		for j := range last {
			last[j] ^= r[j]
		}
	}
	shares[parts-1] = last
	return shares, nil
}

// splitBinaryField makes parts Shamir shares of secret over GF(2^8) or
// GF(2^16), piece by piece, any threshold of which recover it.
func (s *Service) splitBinaryField(ctx context.Context, f binaryField, secret []byte, parts, threshold int) ([][]byte, error) {
	shares := make([][]byte, parts)
	coef, err := s.cfg.Crypto.RandomBytes(ctx, len(secret)*(threshold-1))
	if err != nil {
		return nil, err
	}
	pieces := len(secret) / f.size
	for i := range shares {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := uint16(i + 1)
		share := make([]byte, len(secret))
		for j := 0; j < pieces; j++ {
			// Horner: f(x) = b + c1 x + ... + c(t-1) x^(t-1).
			var y uint16
			for k := threshold - 2; k >= 0; k-- {
				y = f.mul(y, x) ^ f.get(coef, j*(threshold-1)+k)
			}
			f.put(share, j, f.mul(y, x)^f.get(secret, j))
		}
		shares[i] = share
	}
	return shares, nil
}

// splitPrimeField makes parts Shamir shares of secret modulo prime, each
// as long as the prime, any threshold of which recover it.
func (s *Service) splitPrimeField(ctx context.Context, secret []byte, parts, threshold int, prime *big.Int) ([][]byte, error) {
	shares := make([][]byte, parts)
	size := (prime.BitLen() + 7) / 8
	coefs := make([]*big.Int, threshold-1)
	for k := range coefs {
		r, err := s.cfg.Crypto.RandomBytes(ctx, size+8)
		if err != nil {
			return nil, err
		}
		coefs[k] = new(big.Int).Mod(new(big.Int).SetBytes(r), prime)
	}
	s0 := new(big.Int).SetBytes(secret)
	for i := range shares {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := big.NewInt(int64(i + 1))
		y := new(big.Int)
		for k := len(coefs) - 1; k >= 0; k-- {
			y.Mul(y, x).Add(y, coefs[k]).Mod(y, prime)
		}
		y.Mul(y, x).Add(y, s0).Mod(y, prime)
		shares[i] = y.FillBytes(make([]byte, size))
	}
	return shares, nil
}
