//! `config.json` from arbitrary bytes: the BERT reader (architecture, hyper-parameters, labels) and
//! the decoder reader (Llama / GPT-2 hyper-parameters, RoPE settings, special ids). A config that
//! reads holds values the header can store: positive finite epsilons, finite RoPE settings.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use picoformer::format::RopeScaling;
use picoformer_tool::decoder::{decoder_arch, DecoderConfig};
use picoformer_tool::load::{parse_json, HfConfig};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("config.json");
    if let Ok(c) = HfConfig::from_bytes(path, data) {
        assert!(c.hidden % c.n_heads == 0);
        assert!(c.layer_norm_eps.is_finite() && c.layer_norm_eps > 0.0, "eps {}", c.layer_norm_eps);
    }
    if let Ok(v) = parse_json(path, data) {
        let _ = decoder_arch(&v);
    }
    if let Ok(c) = DecoderConfig::from_bytes(path, data) {
        let p = &c.params;
        assert!(p.n_heads % p.n_kv_heads == 0);
        assert!(p.norm_eps.is_finite() && p.norm_eps > 0.0, "eps {}", p.norm_eps);
        assert!(p.rope_theta.is_finite(), "rope_theta {}", p.rope_theta);
        let factors = match p.rope_scaling {
            RopeScaling::Linear { factor } => vec![factor],
            RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, .. } => {
                vec![factor, low_freq_factor, high_freq_factor]
            }
            _ => vec![],
        };
        assert!(factors.iter().all(|f| f.is_finite()), "{:?}", p.rope_scaling);
    }
});
