//! `model.safetensors` from arbitrary bytes: the header (tensor index), then every tensor read as
//! the converter reads it (F32 / F16 / BF16 to f32, every value finite), and the BERT name mapping
//! of a tiny config (names and shapes checked) with its mapped tensors.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use picoformer_tool::load::{Checkpoint, HfConfig};
use picoformer_tool::map::map_tensors;

/// A one-layer BERT small enough for the seeds to hold all of its tensors.
fn tiny_config() -> &'static HfConfig {
    static CONFIG: OnceLock<HfConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let json = br#"{"architectures":["BertModel"],"vocab_size":16,"hidden_size":4,"num_hidden_layers":1,
            "num_attention_heads":2,"intermediate_size":8,"max_position_embeddings":8}"#;
        HfConfig::from_bytes(Path::new("config.json"), json).expect("the tiny config is valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(ck) = Checkpoint::from_bytes(Path::new("model.safetensors"), data.to_vec()) else { return };
    for name in ck.names() {
        assert!(ck.contains(&name));
        let shape = ck.shape(&name).map(<[usize]>::to_vec);
        if let Ok(t) = ck.tensor(&name) {
            assert_eq!(Some(&t.shape), shape.as_ref());
            assert_eq!(t.data.len(), t.shape.iter().product::<usize>());
        }
    }
    assert!(ck.tensor("no such tensor").is_err());
    if let Ok(mapping) = map_tensors(tiny_config(), &ck) {
        for spec in &mapping.tensors {
            if let Ok(t) = ck.tensor(&spec.source) {
                assert_eq!(t.data.len(), spec.shape.iter().product::<usize>());
            }
        }
    }
});
