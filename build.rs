//! Sets `picoformer_dsp` for targets with the Armv7E-M / Armv8-M Mainline DSP extension, enabling
//! the SXTB16/SMLAD kernels in `src/kernels/cortex_m.rs` (int4: `src/kernels/cortex_m/i4.rs`):
//! - `thumbv7em-*`: always (the DSP extension is part of Armv7E-M);
//! - `thumbv8m.main-*`: only when the build names a core that has it (`-C target-cpu=cortex-m33`,
//!   `cortex-m35p`, `cortex-m55`, `cortex-m85`) or the feature (`-C target-feature=+dsp`): the
//!   extension is optional on Armv8-M Mainline, and the assembler rejects SMLAD without it.
//!
//! `PICOFORMER_NO_DSP=1` in the build environment turns them off (generic kernels only; used by
//! `firmware/icount.sh` to measure the difference).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(picoformer_dsp)");
    println!("cargo::rerun-if-env-changed=PICOFORMER_NO_DSP");
    println!("cargo::rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let dsp_core = ["cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"]
        .iter()
        .any(|cpu| flags.contains(&format!("target-cpu={cpu}")));
    let dsp_feature = flags.contains("+dsp") || features.split(',').any(|f| f == "dsp");
    let dsp = target.starts_with("thumbv7em-")
        || (target.starts_with("thumbv8m.main-") && (dsp_core || dsp_feature));
    let off = std::env::var("PICOFORMER_NO_DSP").is_ok_and(|v| !v.is_empty() && v != "0");
    if dsp && !off {
        println!("cargo::rustc-cfg=picoformer_dsp");
    }
}
