//! The `lookalike` binary as a user runs it: index a small real catalog, search it with good and
//! bad files in one call, check the JSON contract and the exit status.

use std::process::{Command, Output};

use lookalike_tests::{demo_sources, fixture, models_dir, photo_like, subset_products};

fn lookalike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(args)
        .env("LOOKALIKE_MODELS", models_dir())
        .output()
        .expect("lookalike runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn index_then_search_with_good_and_bad_images() {
    let tmp = tempfile::tempdir().unwrap();
    let ids = ["vendure-laptop", "vendure-tent", "saleor-orange-juice"];
    let products = subset_products(tmp.path(), &ids);
    let catalog = tmp.path().join("catalog");
    let out = lookalike(&[
        "index",
        "--images",
        demo_sources().join("images").to_str().unwrap(),
        "--products",
        products.to_str().unwrap(),
        "--out",
        catalog.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "index failed: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("3 products"),
        "{}",
        text(&out.stdout)
    );

    let query = tmp.path().join("tent-photo.jpg");
    let original = std::fs::read(demo_sources().join("images/vendure-tent.jpg")).unwrap();
    std::fs::write(&query, photo_like(&original, 6.0, 0.03, 75)).unwrap();
    let note = tmp.path().join("note.txt");
    std::fs::write(&note, "not a photo\n").unwrap();
    let missing = tmp.path().join("nope.jpg");
    let coffee = fixture("coffee.png");
    let args = ["search", "--catalog", catalog.to_str().unwrap(), "--json"];
    let files = [
        query.as_path(),
        note.as_path(),
        missing.as_path(),
        coffee.as_path(),
    ];
    let mut all: Vec<&str> = args.to_vec();
    all.extend(files.iter().map(|p| p.to_str().unwrap()));
    let out = lookalike(&all);

    assert_eq!(
        out.status.code(),
        Some(1),
        "bad files make the exit status non-zero"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("note.txt") && stderr.contains("text file"),
        "{stderr}"
    );
    assert!(stderr.contains("nope.jpg"), "{stderr}");
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2, "the good images are still answered");
    assert!(
        lines[0]["query"]
            .as_str()
            .unwrap()
            .ends_with("tent-photo.jpg")
    );
    assert_eq!(lines[0]["results"][0]["id"], "vendure-tent");
    for r in &lines {
        assert!(
            r["categories"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["name"].is_string() && c["score"].is_number())
        );
        assert!(r["segmentation"]["used"].is_string());
        assert!(
            ["same", "similar", "none"].contains(&r["match"].as_str().unwrap_or("")),
            "every search says how close it came: {}",
            r["match"]
        );
        let results = r["results"].as_array().unwrap();
        assert_eq!(results.len(), 3, "min(10, catalog size)");
        for key in [
            "rank",
            "id",
            "name",
            "category",
            "price",
            "score",
            "semantic",
            "semantic_cutout",
            "semantic_frame",
            "texture",
            "color",
            "route_share",
            "source_image",
            "routed",
        ] {
            assert!(
                results.iter().all(|h| !h[key].is_null()),
                "every result has `{key}`"
            );
        }
        let id = results[0]["id"].as_str().unwrap();
        assert!(catalog.join(format!("thumbs/{id}.jpg")).is_file());
        let stages: Vec<&str> = r["timings"]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                assert!(t["ms"].as_f64().unwrap() >= 0.0, "{t}");
                t["stage"].as_str().unwrap()
            })
            .collect();
        assert_eq!(
            stages,
            [
                "decode", "segment", "route", "embed", "retrieve", "texture", "color", "rerank"
            ]
        );
        assert!(r["timings"]["total_ms"].as_f64().unwrap() > 0.0);
    }

    let human = lookalike(&[
        "search",
        "--catalog",
        catalog.to_str().unwrap(),
        query.to_str().unwrap(),
    ]);
    assert!(human.status.success());
    let table = text(&human.stdout);
    assert!(
        table.contains("rank") && table.contains("Tent") && table.contains("ms: decode"),
        "{table}"
    );
}

#[test]
fn clear_errors_for_a_missing_catalog_and_bad_options() {
    let out = lookalike(&["search", "--catalog", "/nonexistent/catalog", "x.jpg"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("lookalike index"),
        "{}",
        text(&out.stderr)
    );
    let out = lookalike(&["search", "--catalog", "c", "--weights", "1,2", "x.jpg"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("three numbers"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn eval_reports_recall_mrr_ablations_and_refuses_a_foreign_query_set() {
    let tmp = tempfile::tempdir().unwrap();
    let ids = [
        "vendure-laptop",
        "vendure-tent",
        "vendure-road-bike",
        "vendure-balloon-chair",
    ];
    let catalog = lookalike_tests::build_catalog(tmp.path(), &ids);
    let mut csv = String::from("image,product,split\n");
    for (i, id) in ids.iter().enumerate() {
        let original = std::fs::read(demo_sources().join(format!("images/{id}.jpg"))).unwrap();
        let name = format!("q{i}.jpg");
        std::fs::write(tmp.path().join(&name), photo_like(&original, 5.0, 0.04, 70)).unwrap();
        let split = if i % 2 == 0 { "tune" } else { "test" };
        csv.push_str(&format!("{name},{id},{split}\n"));
    }
    let queries = tmp.path().join("queries.csv");
    std::fs::write(&queries, &csv).unwrap();
    // `lookalike eval` on this catalog and query file, plus `extra` arguments
    let eval = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            "--catalog",
            catalog.to_str().unwrap(),
            "--queries",
            queries.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        lookalike(&args)
    };
    // a refused query set: exit status 1 and an error naming `needle`
    let refused = |csv: &str, needle: &str| {
        std::fs::write(&queries, csv).unwrap();
        let out = eval(&[]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(needle), "{stderr}");
    };
    let out = eval(&["--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let set = &report["sets"][0];
    assert_eq!(set["n"], 4);
    let rows = set["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "plain embedding (baseline)",
            "cut-out cosine",
            "+ whole-frame view",
            "+ router prior",
            "+ texture",
            "+ colour (full)"
        ]
    );
    assert!(rows[0]["scoring"].is_null(), "the baseline has no scoring");
    for r in rows {
        let m = &r["metrics"];
        let (r1, r5, r10, mrr) = (
            m["recall_at_1"].as_f64().unwrap(),
            m["recall_at_5"].as_f64().unwrap(),
            m["recall_at_10"].as_f64().unwrap(),
            m["mrr"].as_f64().unwrap(),
        );
        assert!(r1 <= r5 && r5 <= r10 && r1 <= mrr && mrr <= r10, "{r}");
        // a 4-product catalog: every product is in the top 10
        assert_eq!(r10, 1.0, "{r}");
    }
    // rotated, cropped, recompressed copies of catalog photos come back first
    assert_eq!(rows[5]["metrics"]["recall_at_1"], 1.0, "{report}");
    assert_eq!(
        set["scoring"], rows[5]["scoring"],
        "the last row is the profile's scoring"
    );
    assert!(
        set["per_category"].as_array().unwrap().len() >= 2,
        "{report}"
    );
    let verdicts = &set["match"];
    assert!(verdicts["same_rate"].as_f64().unwrap() > 0.0, "{verdicts}");
    assert_eq!(verdicts["outside_n"], 0);

    // tuning fits on the tune split and reports the test split; an outside set (no products) is
    // searched too and the verdict's rates on it reported
    let outside = tmp.path().join("outside.csv");
    std::fs::copy(fixture("chelsea.png"), tmp.path().join("cat.png")).unwrap();
    std::fs::write(
        &outside,
        "image,product,split\ncat.png,,test\ncat.png,,tune\n",
    )
    .unwrap();
    let out = eval(&["--tune", "--json", "--outside", outside.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tuned: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(tuned["split"], "test");
    let set = &tuned["sets"][0];
    assert_eq!(set["n"], 2);
    assert_eq!(
        set["rows"].as_array().unwrap().len(),
        7,
        "plus the tuned row"
    );
    assert!(tuned["tuned"]["scoring"]["blend"].is_object(), "{tuned}");
    assert_eq!(
        set["match"]["outside_n"], 1,
        "the test split's outside query"
    );
    assert_eq!(
        set["match"]["outside_same_rate"], 0.0,
        "a cat is not a product here"
    );
    // an outside file that names products is refused
    std::fs::write(&outside, "image,product\ncat.png,vendure-tent\n").unwrap();
    let out = eval(&["--outside", outside.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("outside queries name none"),
        "{}",
        text(&out.stderr)
    );

    // a query set for another catalog is refused, naming the product
    refused("image,product\nq0.jpg,vendure-sofa\n", "vendure-sofa");
    // and a file without the columns says which it needs
    refused("path,id\nq0.jpg,vendure-tent\n", "`image` and `product`");
}

/// `lookalike bench-scale` on a small clustered set: the exact scan is its own truth, int8 +
/// re-score finds the same lists, IVF probing every list is exact and probing one scans fewer
/// rows; a catalog on the same vectors opens; a second run reuses the data set, another seed
/// makes a new one.
#[test]
fn bench_scale_reports_recall_against_the_exact_scan_and_reuses_its_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    let json = tmp.path().join("scale.json");
    let template = lookalike_tests::repo().join("catalog/demo/catalog.json");
    let run = |seed: &str| {
        let out = lookalike(&[
            "bench-scale",
            "--rows",
            "3000",
            "--dims",
            "48",
            "--queries",
            "16",
            "--data",
            "clustered",
            "--lists",
            "6",
            "--probes",
            "1,6",
            "--hnsw-ef",
            "16,3000",
            "--seed",
            seed,
            "--dir",
            dir.to_str().unwrap(),
            "--catalog-open",
            "--catalog-template",
            template.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        (
            serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&json).unwrap())
                .unwrap(),
            text(&out.stderr),
        )
    };
    let (report, log) = run("3");
    assert!(log.contains("writing 3000 x 48 clustered"), "{log}");
    let by_name = |name: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {report}"))
            .clone()
    };
    assert_eq!(by_name("lookalike exact f32")["recall_at_k"], 1.0);
    assert_eq!(by_name("lookalike int8 + re-score")["recall_at_k"], 1.0);
    assert_eq!(report["same_top_k_int8"], 1.0);
    let all = by_name("lookalike IVF6 int8 probe 6");
    assert_eq!(all["recall_at_k"], 1.0);
    assert_eq!(all["rows_scanned_share"], 1.0);
    let one = by_name("lookalike IVF6 int8 probe 1");
    let share = one["rows_scanned_share"].as_f64().unwrap();
    assert!(share > 0.0 && share < 0.6, "{one}");
    // a walk that keeps every row is the exact answer; the narrowest (the pool of 40) reads few
    let wide = by_name("lookalike HNSW M16 int8 ef 3000");
    assert_eq!(wide["recall_at_k"], 1.0);
    assert_eq!(wide["rows_scored_share"], 1.0);
    let narrow = by_name("lookalike HNSW M16 int8 ef 16");
    let share = narrow["rows_scored_share"].as_f64().unwrap();
    assert!(share > 0.0 && share < 0.6, "{narrow}");
    assert!(narrow["recall_at_k"].as_f64().unwrap() > 0.5, "{narrow}");
    assert!(log.contains("building the HNSW graph"), "{log}");
    // a catalog of 3,000 products on these vectors opens, with the demo's fields and lean
    let opens = report["catalog_open"].as_array().unwrap();
    assert_eq!(opens.len(), 2);
    for o in opens {
        assert_eq!(
            (&o["products"], &o["graph"]),
            (&serde_json::json!(3000), &serde_json::json!(true))
        );
        for field in ["open_ms", "ten_hits_ms", "ten_by_id_ms"] {
            assert!(o[field].as_f64().is_some(), "{field}: {o}");
        }
    }
    assert!(opens[1]["records_mib"].as_f64() < opens[0]["records_mib"].as_f64());
    // what it opened is a whole catalog: the full check passes on it
    lookalike_engine::Catalog::open_checked(&dir.join("catalog"))
        .expect("the bench's catalog checks");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    assert_eq!(truth["ids"].as_array().unwrap().len(), 16);
    // the same set again: no new files
    let (_, log) = run("3");
    assert!(
        !log.contains("writing") && !log.contains("building"),
        "{log}"
    );
    // other vectors: written again, and the graph of the old codes is not reused
    let (_, log) = run("4");
    assert!(
        log.contains("writing") && log.contains("building the HNSW graph"),
        "{log}"
    );
}
