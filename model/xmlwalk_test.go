package model

import "testing"

func FuzzXMLFields(f *testing.F) {
	for _, s := range []string{`<?xml version="1.0"?><a b="1">x<![CDATA[y]]><!--c--><?p q?></a>`, `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`, `<a><b></a></b>`, "<a>&nbsp;\xff</a>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := &collector{cov: Coverage{Complete: true}}
		if !walkXMLFields(s, PartBody, "", "", 0, c) {
			return
		}
		for _, fl := range c.fs {
			if len(fl.Name) > maxFieldName+len("@") {
				t.Fatalf("name of %d bytes", len(fl.Name))
			}
		}
	})
}
