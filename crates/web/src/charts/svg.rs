//! A tiny SVG writer: every attribute value and text node goes through
//! [`escape`], so a brand name, SKU or tag from a platform cannot break out
//! of the chart. Charts are geometry, which is code; this keeps the markup
//! they produce well-formed by construction instead of by care.

use std::fmt::Write;

/// One rendered chart: well-formed SVG markup, safe to embed in HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chart(pub String);

impl Chart {
    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for Chart {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// `s` with `&`, `<`, `>`, `"` and `'` replaced by entities: valid in text
/// and in double-quoted attributes.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate or length, one decimal, no "-0.0".
pub(crate) fn num(x: f64) -> String {
    let x = if x.is_finite() { x } else { 0.0 };
    let r = (x * 10.0).round() / 10.0;
    if r == 0.0 {
        "0".to_string()
    } else if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Builds one `<svg>` element.
pub(crate) struct Svg {
    out: String,
}

impl Svg {
    /// An accessible image `width`×`height` (viewBox units, scaled by CSS)
    /// whose `<title>` and `aria-label` are `label`.
    pub(crate) fn new(class: &str, width: f64, height: f64, label: &str) -> Svg {
        let label = escape(label);
        let mut out = String::with_capacity(2048);
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart {}" viewBox="0 0 {} {}" role="img" aria-label="{label}"><title>{label}</title>"#,
            escape(class),
            num(width),
            num(height),
        );
        Svg { out }
    }

    /// A shape; with `hover`, a `<title>` child the browser shows on hover
    /// and screen readers read.
    pub(crate) fn shape(&mut self, tag: &str, attrs: &[(&str, String)], hover: Option<&str>) {
        self.start(tag, attrs);
        match hover {
            Some(h) => {
                let _ = write!(self.out, "><title>{}</title></{tag}>", escape(h));
            }
            None => self.out.push_str("/>"),
        }
    }

    /// A `<text>` node.
    pub(crate) fn text(&mut self, x: f64, y: f64, class: &str, anchor: &str, content: &str) {
        let _ = write!(
            self.out,
            r#"<text x="{}" y="{}" class="{}" text-anchor="{}">{}</text>"#,
            num(x),
            num(y),
            escape(class),
            escape(anchor),
            escape(content)
        );
    }

    /// The "No data" note an empty chart shows instead of misleading axes.
    pub(crate) fn empty(mut self, width: f64, height: f64) -> Chart {
        self.text(
            width / 2.0,
            height / 2.0,
            "chart__empty",
            "middle",
            "No data",
        );
        self.finish()
    }

    pub(crate) fn finish(mut self) -> Chart {
        self.out.push_str("</svg>");
        Chart(self.out)
    }

    fn start(&mut self, tag: &str, attrs: &[(&str, String)]) {
        let _ = write!(self.out, "<{tag}");
        for (k, v) in attrs {
            let _ = write!(self.out, r#" {k}="{}""#, escape(v));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal well-formedness check: tags balance, attributes are
    /// quoted, no raw `<` or `&` outside markup and entities.
    pub(crate) fn assert_well_formed(svg: &str) {
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(lt) = rest.find('<') {
            let text = &rest[..lt];
            assert_entities_ok(text, svg);
            let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
            let tag = &rest[lt + 1..gt];
            assert!(!tag.contains('<'), "'<' inside a tag in {svg}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "unbalanced in {svg}");
            } else {
                let name = tag.split([' ', '/']).next().unwrap().to_string();
                // Quotes balance: every attribute value is quoted.
                assert_eq!(tag.matches('"').count() % 2, 0, "unquoted in {tag}");
                assert_entities_ok(tag, svg);
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            rest = &rest[gt + 1..];
        }
        assert!(stack.is_empty(), "unclosed {stack:?} in {svg}");
    }

    fn assert_entities_ok(text: &str, svg: &str) {
        for (i, _) in text.match_indices('&') {
            let ent = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                    .iter()
                    .any(|e| ent.starts_with(e)),
                "bare & in {svg}"
            );
        }
    }

    #[test]
    fn escapes_markup_in_labels_and_attributes() {
        let mut s = Svg::new("x", 10.0, 10.0, r#"<script>"a" & 'b'"#);
        s.shape("rect", &[("class", "a\"b".into())], Some("<b>&"));
        s.text(1.0, 2.0, "t", "start", "</svg><script>");
        let c = s.finish();
        assert!(!c.as_str().contains("<script>"));
        assert!(c
            .as_str()
            .contains("&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;"));
        assert_well_formed(c.as_str());
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.25), "1.3");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(f64::NAN), "0");
    }
}
