//! ONNX Runtime: the process-wide environment (the library is loaded at run time) and one
//! `LoadedModel` per manifest entry: checksum-verified file, I/O names checked, session behind a lock.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use image::RgbaImage;
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use sha2::{Digest, Sha256};

use super::manifest::{Manifest, ModelSpec, Normalize, OutputKind, OutputSpec, PENDING_CHECKSUM};
use super::preprocess;
use crate::error::{EngineError, Result};

/// Environment variable naming the ONNX Runtime shared library (`ort`'s own convention).
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

static ENVIRONMENT: OnceLock<std::result::Result<Environment, (PathBuf, String)>> = OnceLock::new();

/// Where to find `libonnxruntime`: `$ORT_DYLIB_PATH`, else `<models>/runtime/` as set-up leaves it.
pub fn default_dylib_path(models_dir: &Path) -> PathBuf {
    match std::env::var_os(ORT_DYLIB_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => models_dir
            .join("runtime")
            .join(if cfg!(target_os = "windows") {
                "onnxruntime.dll"
            } else if cfg!(target_os = "macos") {
                "libonnxruntime.dylib"
            } else {
                "libonnxruntime.so"
            }),
    }
}

/// Loads ONNX Runtime once per process. The first caller's path and thread count win (ORT can be
/// loaded only once).
///
/// Every session runs on one process-wide intra-op thread pool. With a pool per session, the
/// segmenter's threads still spin, waiting for work, while the next model runs, and on a
/// phone-sized core count they take the CPU from it.
pub fn environment(dylib: &Path, intra_threads: usize) -> Result<&'static Environment> {
    let env = ENVIRONMENT.get_or_init(|| {
        let fail = |e: String| (dylib.to_path_buf(), e);
        if !dylib.exists() {
            return Err(fail(
                "file not found (run `bash scripts/setup.sh core`, or set ORT_DYLIB_PATH)".into(),
            ));
        }
        // the library path first: building the pool options already calls into the library
        let builder = ort::init_from(dylib).map_err(|e| fail(e.to_string()))?;
        let pool = ort::environment::GlobalThreadPoolOptions::default()
            .with_intra_threads(intra_threads.max(1))
            .and_then(|p| p.with_inter_threads(1))
            .map_err(|e| fail(e.to_string()))?;
        builder
            .with_name("lookalike")
            .with_global_thread_pool(pool)
            .build()
            .map_err(|e| fail(e.to_string()))
    });
    env.as_ref().map_err(|(path, detail)| EngineError::Runtime {
        path: path.clone(),
        detail: detail.clone(),
    })
}

/// Session settings. Phones want fewer threads than desktops; the app may lower this.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub dylib: Option<PathBuf>,
    pub intra_threads: usize,
    /// ORT's CPU arena keeps activation buffers between runs; without it every run maps and
    /// faults in U2Netp's large activations afresh. Measured with `lookalike bench` on
    /// `cargo xtask bench`'s photos (lite, 2-core EPYC, option toggled in code): arena on, memory
    /// patterns off: p50 113 ms, peak RSS 242 MiB; arena off: 162 ms, 244 MiB (no saving here).
    pub cpu_arena: bool,
    /// ORT's memory patterns pre-plan one block for a whole run on top of the arena. Same
    /// measurement with patterns on: 106 ms, 346 MiB: about 100 MiB for no clear speed, so off.
    pub memory_pattern: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        RuntimeOptions {
            dylib: None,
            intra_threads: cores.min(4),
            cpu_arena: true,
            memory_pattern: false,
        }
    }
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// One output of one inference, batch of one: `dims` as declared in the manifest.
#[derive(Debug, Clone)]
pub struct OutputTensor {
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

pub type ModelOutputs = HashMap<String, OutputTensor>;

pub struct LoadedModel {
    pub id: String,
    pub spec: ModelSpec,
    pub sha256: String,
    // `Session::run` needs `&mut`; searches on other threads wait here (each run uses all cores anyway).
    session: Mutex<Session>,
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModel")
            .field("id", &self.id)
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl LoadedModel {
    /// Verifies the file against the manifest's sha256, opens a session and checks the graph's
    /// input and output names match the manifest.
    pub fn load(manifest: &Manifest, id: &str, options: &RuntimeOptions) -> Result<Self> {
        let spec = manifest.model(id)?.clone();
        let path = manifest.model_path(id)?;
        if !path.is_file() {
            return Err(EngineError::ModelMissing {
                model: id.into(),
                path,
            });
        }
        let actual = sha256_file(&path)
            .map_err(|e| EngineError::io(format!("reading model file {}", path.display()), e))?;
        if spec.sha256 == PENDING_CHECKSUM || !actual.eq_ignore_ascii_case(&spec.sha256) {
            return Err(EngineError::ModelChecksum {
                model: id.into(),
                path,
                expected: spec.sha256.clone(),
                actual,
            });
        }
        let dylib = options
            .dylib
            .clone()
            .unwrap_or_else(|| default_dylib_path(&manifest.dir));
        let env = environment(&dylib, options.intra_threads)?;
        let ort_err = |e: ort::Error| EngineError::ModelMismatch {
            model: id.into(),
            detail: format!("ONNX Runtime could not open {}: {e}", path.display()),
        };
        let session = Session::builder(env)
            .map_err(ort_err)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| ort_err(e.into()))?
            .with_intra_threads(options.intra_threads.max(1))
            .map_err(|e| ort_err(e.into()))?
            .with_execution_providers([ort::ep::CPU::default()
                .with_arena_allocator(options.cpu_arena)
                .build()])
            .map_err(|e| ort_err(e.into()))?
            .with_memory_pattern(options.memory_pattern)
            .map_err(|e| ort_err(e.into()))?
            .commit_from_file(&path)
            .map_err(ort_err)?;
        check_io(id, &spec, &expected_inputs(manifest, &spec), &session)?;
        Ok(LoadedModel {
            id: id.into(),
            spec,
            sha256: actual,
            session: Mutex::new(session),
        })
    }

    /// Preprocesses `image` as the manifest says and runs the model; returns every declared output.
    pub fn run(&self, image: &RgbaImage) -> Result<ModelOutputs> {
        let input = preprocess::to_tensor(image, self.spec.image_input(&self.id)?);
        self.run_tensor(input)
    }

    /// Runs a text tower on one sequence of `max_len` token ids.
    pub fn run_text(&self, ids: &[i64]) -> Result<ModelOutputs> {
        let text = self
            .spec
            .text
            .as_ref()
            .ok_or_else(|| EngineError::ModelMismatch {
                model: self.id.clone(),
                detail: "is not a text tower".into(),
            })?;
        let tensor = TensorRef::from_array_view(([1usize, ids.len()], ids)).map_err(|e| {
            EngineError::Inference {
                model: self.id.clone(),
                detail: e.to_string(),
            }
        })?;
        self.run_input(&text.input, tensor.into())
    }

    /// Runs an already preprocessed `[1, 3, H, W]` tensor.
    pub fn run_tensor(&self, input: Vec<f32>) -> Result<ModelOutputs> {
        let i = self.spec.image_input(&self.id)?;
        let shape = [1usize, 3, i.height as usize, i.width as usize];
        let tensor = TensorRef::from_array_view((shape, input.as_slice())).map_err(|e| {
            EngineError::Inference {
                model: self.id.clone(),
                detail: e.to_string(),
            }
        })?;
        self.run_input(&i.name, tensor.into())
    }

    /// Runs float tensors fed by name (a prompt decoder's features and prompts).
    pub fn run_named(&self, inputs: &[(&str, Vec<usize>, &[f32])]) -> Result<ModelOutputs> {
        let mut values = Vec::with_capacity(inputs.len());
        for (name, dims, data) in inputs {
            let tensor = TensorRef::from_array_view((dims.clone(), *data)).map_err(|e| {
                EngineError::Inference {
                    model: self.id.clone(),
                    detail: format!("input `{name}`: {e}"),
                }
            })?;
            values.push((
                std::borrow::Cow::Borrowed(*name),
                ort::session::SessionInputValue::from(tensor),
            ));
        }
        self.run_values(values)
    }

    fn run_input(
        &self,
        name: &str,
        tensor: ort::session::SessionInputValue<'_>,
    ) -> Result<ModelOutputs> {
        self.run_values(vec![(std::borrow::Cow::Borrowed(name), tensor)])
    }

    fn run_values(
        &self,
        inputs: Vec<(
            std::borrow::Cow<'_, str>,
            ort::session::SessionInputValue<'_>,
        )>,
    ) -> Result<ModelOutputs> {
        let fail = |detail: String| EngineError::Inference {
            model: self.id.clone(),
            detail,
        };
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session.run(inputs).map_err(|e| fail(e.to_string()))?;
        let mut result = ModelOutputs::new();
        for spec in &self.spec.outputs {
            let value = outputs
                .get(&spec.name)
                .ok_or_else(|| fail(format!("output `{}` missing from the run", spec.name)))?;
            let (shape, data) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| fail(e.to_string()))?;
            let got: Vec<usize> = shape.iter().map(|d| *d as usize).collect();
            if got != spec.dims {
                return Err(fail(format!(
                    "output `{}` has shape {got:?}, the manifest declares {:?}",
                    spec.name, spec.dims
                )));
            }
            let mut data = data.to_vec();
            apply_normalize(spec, &mut data);
            result.insert(spec.name.clone(), OutputTensor { dims: got, data });
        }
        Ok(result)
    }
}

fn apply_normalize(spec: &OutputSpec, data: &mut [f32]) {
    if spec.normalize == Some(Normalize::MinMax) {
        let (lo, hi) = data
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        let range = hi - lo;
        for v in data.iter_mut() {
            *v = if range > f32::EPSILON {
                (*v - lo) / range
            } else {
                0.0
            };
        }
    }
}

/// The graph inputs a model's manifest entry feeds.
fn expected_inputs(manifest: &Manifest, spec: &ModelSpec) -> Vec<String> {
    if let Some(i) = &spec.input {
        return vec![i.name.clone()];
    }
    if let Some(t) = &spec.text {
        return vec![t.input.clone()];
    }
    let Some(p) = &spec.prompt else {
        return Vec::new();
    };
    let mut names: Vec<String> = manifest
        .models
        .get(&p.encoder)
        .into_iter()
        .flat_map(|e| &e.outputs)
        .filter(|o| o.kind == OutputKind::Features)
        .map(|o| o.name.clone())
        .collect();
    names.extend([&p.points, &p.labels, &p.mask_input, &p.has_mask_input].map(String::clone));
    names
}

fn check_io(id: &str, spec: &ModelSpec, want: &[String], session: &Session) -> Result<()> {
    let mismatch = |detail: String| EngineError::ModelMismatch {
        model: id.into(),
        detail,
    };
    let inputs: Vec<&str> = session.inputs().iter().map(|o| o.name()).collect();
    for want in want {
        if !inputs.contains(&want.as_str()) {
            return Err(mismatch(format!(
                "manifest input `{want}` is not in the graph (inputs: {inputs:?})"
            )));
        }
    }
    // a prompt decoder is fed exactly these: an input the manifest does not name would fail
    // every run, so it fails the load instead
    if spec.prompt.is_some()
        && let Some(extra) = inputs.iter().find(|i| !want.iter().any(|w| w == *i))
    {
        return Err(mismatch(format!(
            "the graph needs input `{extra}`, which a prompt decoder is not fed (fed: {want:?})"
        )));
    }
    let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
    for o in &spec.outputs {
        if !outputs.contains(&o.name.as_str()) {
            return Err(mismatch(format!(
                "manifest output `{}` is not in the graph (outputs: {outputs:?})",
                o.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_normalisation_maps_to_unit_range() {
        let spec = OutputSpec {
            name: "m".into(),
            kind: OutputKind::Saliency,
            dims: vec![1, 3],
            normalize: Some(Normalize::MinMax),
        };
        let mut d = vec![2.0, 4.0, 3.0];
        apply_normalize(&spec, &mut d);
        assert_eq!(d, vec![0.0, 1.0, 0.5]);
        let mut flat = vec![5.0, 5.0];
        apply_normalize(&spec, &mut flat);
        assert_eq!(flat, vec![0.0, 0.0], "a flat map has no foreground");
    }
}
