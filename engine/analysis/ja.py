# ruff: noqa: E501  (ruff counts each Japanese character as two columns; the templates read best unbroken)
"""The Japanese catalogue of report.md and the figures: English template ->
Japanese template, with the same {placeholders} (engine.analysis.words.tr).

The words are the lecture's (docs/lecture.md, the slides of 知の探究 5): 重み,
閾値 θ, 活性化関数, 初期値, 誤差 E, 隠れ層, 出力層, 勾配法, 最急降下法, 過学習; the
step size η is called 学習率 as in Saito's book, which the lecture cites. Factor
names, levels, file names, numbers and p values stay as they are: they are the
names the experiment file and the CSV tables use.
"""

from ..schema import DIVERGED

JA = {
    # ---- shared pieces: punctuation, lists, counts
    ".": "。",
    ". ": "。",
    ", ": "、",
    "; ": "。",
    ").": "）。",
    " or ": " または ",
    " and ": " と ",
    "never": "未到達",
    "{level} CI": "{level} 信頼区間",
    "{n} configuration": "{n} 設定",
    "{n} configurations": "{n} 設定",
    "{n} seed": "シード {n} 個",
    "{n} seeds": "シード {n} 個",
    "{first}, …, {last}; {n} seeds": "{first}, …, {last}（シード {n} 個）",
    "experiment file": "実験ファイル",
    # ---- the title, the experiment, notes
    "# Results: {name}": "# 結果: {name}",
    "the data in `{file}`": "`{file}` のデータ",
    "scikit-learn's 8×8 digits": "scikit-learn の 8×8 手書き数字",
    "the C/T images": "C/T の画像",
    "The {n_in}-{hidden}-{n_out} network on {data}: {runs} of {total} runs ({configs} × {seeds}).": (
        "{data}で学習した {n_in}-{hidden}-{n_out} ネットワーク（入力層・隠れ層・出力層のユニット数）: "
        "{total} 回のうち {runs} 回の学習（{configs} × {seeds}）。"
    ),
    "Factors: {factors}.": "要因: {factors}。",
    "No factor varies.": "変える要因はない。",
    "init": "初期値",
    "activation": "活性化関数",
    "optimizer": "勾配法",
    "learning rate": "学習率 η",
    "target loss ε": "目標誤差 ε",
    "epoch budget": "エポック数の上限",
    "batch size": "バッチサイズ",
    "loss reduction": "誤差のまとめ方",
    "no target loss ε (every run trains for the whole budget)": "目標誤差 ε なし（どの学習も上限まで続ける）",
    ", pixel flips {flip}, noise {noise}": "、画素反転 {flip}、ノイズ {noise}",
    "data: {n_train} training and {n_test} test images{noisy}, data seed {seed}{digest}": (
        "データ: 学習用 {n_train} 枚とテスト用 {n_test} 枚の画像{noisy}、データのシード {seed}{digest}"
    ),
    "Fixed settings: {facts}.": "固定した設定: {facts}。",
    "Experiment file `{spec}` (sha256 `{sha}`), given in full at the end.": (
        "実験ファイル `{spec}`（sha256 `{sha}`）。全文は末尾に載せた。"
    ),
    "**Notes**": "**注記**",
    "Figure not drawn ({file}): {why}.": "描かなかった図（{file}）: {why}。",
    # the loader's notes (engine.analysis.load)
    "Partial sweep: runs.csv has {runs} of {expected} expected runs.": (
        "途中までのスイープ: runs.csv には予定の {expected} 回のうち {runs} 回の学習がある。"
    ),
    "all seeds": "全シード",
    "seeds {seeds}": "シード {seeds}",
    "config {config} ({seeds})": "設定 {config}（{seeds}）",
    "; and {n} more configs": "。ほかに {n} 設定",
    "{note} Missing: {shown}{more}.": "{note}欠けている学習: {shown}{more}。",
    "manifest.json is missing or names no factors: the factors were taken "
    "to be the setting columns that vary ({factors}).": (
        "manifest.json がないか要因を挙げていない: 変化する設定の列を要因とした（{factors}）。"
    ),
    "none": "なし",
    "No params.csv or params.parquet: the learned hidden units are not drawn.": (
        "params.csv も params.parquet もない: 学習した隠れ層のユニットは描かない。"
    ),
    "{file} has no rows for {lacking} of the {runs} runs.": "{file} には {runs} 回のうち {lacking} 回の学習の行がない。",
    # ---- the methods (report_methods.ja.md holds the rest)
    "Groups of runs are ranked by the share that reached ε, then the median epochs to ε "
    "(the median is *never* unless more than half reached ε), then mean test accuracy.": (
        "学習のグループは、まず ε に到達した割合、次に ε までのエポック数の中央値"
        "（半数を超えて到達しなければ中央値は *未到達*）、最後にテスト正解率の平均で順位を付ける。"
    ),
    " Configurations count the median {unit} to ε instead of epochs.": (
        "設定の順位はエポック数の代わりに ε までの{unit}の中央値で数える。"
    ),
    "Runs that never reached ε count as +∞ (*never*) like any other value, so a bound may be *never*.": (
        "ε に到達しなかった学習はほかの値と同じく +∞（*未到達*）として数えるので、区間の端が *未到達* になることもある。"
    ),
    "epochs to ε count a run that never reached ε as one epoch past the budget, so two "
    "such runs tie; a pair with a diverged run's missing value is left out.": (
        "ε までのエポック数では、到達しなかった学習を上限の 1 エポック後として数えるので、そうした二つは引き分けになる。"
        "発散した学習の欠けた値を含む組は除く。"
    ),
    "Train loss at stop": "停止時の訓練誤差",
    "Runs stop as soon as E < ε, so the final train loss measures how far the last step "
    "overshot ε and rewards large steps; the tables show it as *train loss at stop* and the "
    "paired tests do not compare it.": (
        "学習は E < ε となった時点で止まるので、最後の訓練誤差は最後の一歩が ε をどれだけ越えたかを測り、"
        "大きな歩幅ほど有利になる。表では *停止時の訓練誤差* として示し、対応のある検定では比べない。"
    ),
    "the success rate and the median epochs to ε": "成功率と ε までのエポック数の中央値",
    "Without a target ε every run trains for the whole budget: groups are ranked by mean test accuracy.": (
        "目標誤差 ε がないので、どの学習もエポック数の上限まで続ける。グループはテスト正解率の平均で順位を付ける。"
    ),
    "a pair with a diverged run's missing value is left out.": "発散した学習の欠けた値を含む組は除く。",
    "Final train loss": "最終の訓練誤差",
    "Every run trains for the same budget, so the final train loss is the loss after a "
    "fixed number of epochs, and the paired tests compare it.": (
        "どの学習も同じエポック数だけ続けるので、最終の訓練誤差は決まったエポック数の後の誤差であり、"
        "対応のある検定でも比べる。"
    ),
    "the other criteria": "ほかの基準",
    "- **Costs.** The ranking counts the cost to ε in {unit}": "- **コスト。** 順位は ε までのコストを{unit}で数える",
    " (`[analysis] cost` in the experiment file)": "（実験ファイルの `[analysis] cost`）",
    ". The costs table gives it ": "。コストの表は",
    "also in ": "ほかに",
    "in epochs, in ": "エポック数、",
    "updates (grad_evals, one per mini-batch step) and in sample-gradients (one per training image "
    "per epoch: ε is checked at the end of an epoch and every epoch passes each training image "
    "once, so epochs × n_train). With one training set, sample-gradients rank the configurations "
    "exactly as epochs do; updates rank them differently where the batch size varies.": (
        "更新回数（grad_evals、ミニバッチ 1 回の更新ごとに 1）とサンプル勾配数（学習用画像 1 枚の 1 エポックごとに 1。"
        "ε はエポックの終わりに確かめ、各エポックは学習用画像をそれぞれ 1 回ずつ通すので、エポック数 × n_train）でも示す。"
        "学習データが一つなら、サンプル勾配数による順位はエポック数による順位と同じになる。"
        "更新回数による順位は、バッチサイズを変える実験では異なる。"
    ),
    "- **Numeric factors** (a batch size, each optimizer's learning rates) are compared between "
    "neighbouring levels, on every seed, with the same paired test and effects as the other "
    "factors (Holm within the factor, and within each level of a factor it is nested in, × "
    "metric). With {levels} levels or more a trend test asks whether the seeds' outcomes "
    "rise or fall with the level: Page's L test (scipy.stats.page_trend_test) on each seed's "
    "ranks of the levels (the mean over its blocks), asked both ways, the smaller p doubled "
    "([trend_tests.csv](trend_tests.csv)); a trend is named where p < {alpha}.": (
        "- **数値の要因**（バッチサイズ、勾配法ごとの学習率）は隣り合う水準どうしを全シードで比べ、"
        "ほかの要因と同じ対応のある検定と効果を使う（Holm の補正は要因ごと、入れ子になる要因の水準ごと、指標ごと）。"
        "水準が {levels} 個以上あれば、シードの結果が水準とともに増えるか減るかを傾向検定で調べる。"
        "各シードの水準の順位（ブロックの平均）に Page の L 検定（scipy.stats.page_trend_test）を両方向に行い、"
        "小さい方の p を 2 倍する（[trend_tests.csv](trend_tests.csv)）。p < {alpha} のとき傾向ありとする。"
    ),
    # ---- the tables' headers and the sections
    "runs": "学習回数",
    "reached ε": "ε 到達",
    DIVERGED: "発散",  # the column, as a table header
    "epochs to ε, median [{ci}]": "ε までのエポック数、中央値 [{ci}]",
    "train loss at stop, median (IQR)": "停止時の訓練誤差、中央値（四分位範囲）",
    "final train loss, median (IQR)": "最終の訓練誤差、中央値（四分位範囲）",
    "test loss, median (IQR)": "テスト誤差、中央値（四分位範囲）",
    "test acc, mean [{ci}]": "テスト正解率、平均 [{ci}]",
    "dead units": "死んだユニット",
    "rank": "順位",
    "config": "設定",
    "factor": "要因",
    "level": "水準",
    "settings": "設定値",
    "## Best configurations": "## 最良の設定",
    "The {n} best of {total} configurations under the rule for best (see "
    "above; tied configurations share a rank), with the settings that differ between "
    "configurations. All configurations: [summary.csv](summary.csv).": (
        "最良の規則（上記。引き分けの設定は同じ順位）による {total} 設定のうち上位 {n} 設定と、"
        "設定ごとに異なる設定値。全設定: [summary.csv](summary.csv)。"
    ),
    "{unit} to ε, median [{ci}]": "ε までの{unit}、中央値 [{ci}]",
    "## Costs": "## コスト",
    "What reaching ε cost the {n} best configurations, median [{ci}] per unit "
    "(see the methods; empty: never). The ranking counts {unit}. All configurations: "
    "[costs.csv](costs.csv).": (
        "上位 {n} 設定が ε に到達するまでのコスト。単位ごとの中央値 [{ci}]（方法を参照。空欄は未到達）。"
        "順位は{unit}で数える。全設定: [costs.csv](costs.csv)。"
    ),
    "{unit} to ε": "ε までの{unit}",
    "## Settings of each level": "## 各水準の設定値",
    "What each level sets: the settings that differ between configurations and each optimizer's "
    "own hyperparameters.": "各水準が決めるもの: 設定ごとに異なる設定値と、勾配法それぞれのハイパーパラメータ。",
    "## Main effects": "## 主効果",
    " Not pooled: {factor}, ": "まとめなかった要因: {factor}。",
    "whose levels differ between the levels of {owners}": "その水準は {owners} の水準ごとに異なる",
    "whose same value is a different step for each optimizer": "同じ値でも勾配法ごとに一歩の大きさが異なる",
    " (see the learning-rate section).": "（学習率の節を参照）。",
    "Each level of each factor, pooled over the other factors and the seeds "
    "([main_effects.csv](main_effects.csv)).{why}": (
        "各要因の各水準。ほかの要因とシードはまとめた（[main_effects.csv](main_effects.csv)）。{why}"
    ),
    "epochs to ε": "ε までのエポック数",
    "test accuracy": "テスト正解率",
    "train loss at stop": "停止時の訓練誤差",
    "final train loss": "最終の訓練誤差",
    "## Paired comparisons": "## 対応のある比較",
    "Two levels of a factor compared seed by seed (see above; n = seeds). A level with a sub-axis "
    "of its own enters at its best sub-level, chosen on the selection seeds, and is tested on the "
    "evaluation seeds ([paired_tests.csv](paired_tests.csv)). The effect and the verdict against "
    "the practical margin are those of the Answer ([effects.csv](effects.csv)): a significant "
    "test alone names no winner.": (
        "一つの要因の二つの水準をシードごとに比べる（上記。n はシード数）。自分の下位の軸をもつ水準は、"
        "選択用シードで選んだ最良の下位水準で加わり、評価用シードで検定する（[paired_tests.csv](paired_tests.csv)）。"
        "効果と実用上の幅に対する判定は「答え」と同じ（[effects.csv](effects.csv)）。検定が有意なだけでは勝者としない。"
    ),
    "{a} vs {b}": "{a} 対 {b}",
    "metric": "指標",
    "levels": "水準",
    "seeds": "シード数",
    "blocks": "ブロック数",
    "blocks won first / second / tied": "ブロックの勝ち 前者 / 後者 / 引き分け",
    "net win share per seed, median [{ci}]": "シードごとの正味の勝ち割合、中央値 [{ci}]",
    "effect r": "効果量 r",
    "p (Holm)": "p（Holm 補正）",
    "effect first vs second [{ci}]": "前者の後者に対する効果 [{ci}]",
    "verdict": "判定",
    " (significant: {winner})": "（有意: {winner}）",
    "## Learning-rate sensitivity": "## 学習率への感度",
    "Per optimizer, pooled over the other factors: the best lr under the rule for best, chosen on "
    "the selection seeds, with its outcomes on the evaluation seeds, and the good range, the lrs "
    "within the practical margin of the best on the evaluation seeds ({rule}); its width is in "
    "decades (powers of ten) ([lr_sensitivity.csv](lr_sensitivity.csv), [lr_ranges.csv](lr_ranges.csv)).{trains}": (
        "勾配法ごとに、ほかの要因をまとめて: 選択用シードで最良の規則により選んだ最良の学習率 η とその評価用シードでの結果、"
        "そして良い範囲、すなわち評価用シードで最良との差が実用上の幅に収まる学習率（{rule}）。"
        "範囲の幅は桁数（10 の累乗）で示す（[lr_sensitivity.csv](lr_sensitivity.csv)、[lr_ranges.csv](lr_ranges.csv)）。{trains}"
    ),
    " The last column is the lrs that train the net, fast or slow: their runs reach ε in at least "
    "{good} of the best's share.": "最後の列は、速さを問わずネットワークを学習させる学習率: ε に到達した学習の割合が最良の {good} 以上。",
    "reaches ε": "ε に到達する範囲",
    "a success rate at least {good} of the best's and a median epochs to ε at most {ratio}× the best's": (
        "成功率が最良の {good} 以上、ε までのエポック数の中央値が最良の {ratio} 倍以下"
    ),
    "a mean test accuracy at most {points} points below the best's": "テスト正解率の平均が最良より {points} ポイント以内",
    "best lr": "最良の学習率",
    "good range": "良い範囲",
    "good levels": "良い水準の数",
    "decades": "桁数",
    "## Figures": "## 図",
    "*Not drawn: {why}.*": "*描かなかった: {why}。*",
    "## Experiment file": "## 実験ファイル",
    "Versions: {versions}.": "バージョン: {versions}。",
    "Read `{file}` ({bytes} bytes, sha256 `{sha}`).": "読んだファイル `{file}`（{bytes} バイト、sha256 `{sha}`）。",
    # ---- the figures' captions in report.md
    "per {hue}": "{hue} ごと",
    "over all runs": "全学習",
    ", one panel per {facet}": "。{facet} ごとに一つのパネル",
    "Learning curves": "学習曲線",
    "Median training loss {by} (line) with the middle half of the runs (band){panels}, "
    "pooled over the other factors and seeds; ": (
        "{by}の訓練誤差 E の中央値（線）と、学習の中央の半数（帯）{panels}。ほかの要因とシードはまとめた。"
    ),
    "the dashed line is ε; ": "破線は ε。",
    "both axes are logarithmic. ": "両軸とも対数目盛。",
    "A run that stopped at ε keeps its last loss and a diverged run counts as infinite loss. ": (
        "ε で止まった学習は最後の誤差を保ち、発散した学習は誤差を無限大として数える。"
    ),
    "A diverged run counts as infinite loss. ": "発散した学習は誤差を無限大として数える。",
    "Once most runs have reached ε the bands lie on ε, so the lower row shows the share of "
    "runs not yet below ε at each epoch: runs that never reach it stay visible there.": (
        "ほとんどの学習が ε に到達すると帯は ε に重なるので、下の段に各エポックでまだ ε を下回っていない学習の割合を示す。"
        "到達しない学習はそこで見える。"
    ),
    "Epochs to ε": "ε までのエポック数",
    "The fraction of runs {by} that had reached ε by epoch k{panels} (an ECDF, as in "
    "COCO); runs that never reached ε keep a curve below 1.": (
        "エポック k までに ε に到達した学習の割合（{by}）{panels}（COCO と同じ経験累積分布 ECDF）。"
        "ε に到達しない学習があれば曲線は 1 に届かない。"
    ),
    "Overfitting and regularisation": "過学習と正則化",
    "Final train (blue) and test (orange) error rate (1 − accuracy, in %) per regularisation "
    "level, one dot per seed (the mean of its runs) and a bar at the median seed; the axis is "
    "linear up to {linear} % and logarithmic above, so seeds near 0 % and a failed "
    "seed near 50 % both show. The gap between train and test is overfitting, which "
    "regularisation should narrow.": (
        "正則化の水準ごとの、最後の学習データ（青）とテストデータ（橙）の誤り率（1 − 正解率、%）。"
        "点はシードごと（その学習の平均）、横棒は中央のシード。縦軸は {linear} % まで線形、それより上は対数なので、"
        "0 % 近くのシードも 50 % 近くで失敗したシードも見える。学習データとテストデータの差が過学習で、"
        "正則化はそれを縮めるはずである。"
    ),
    "Success by init × activation": "初期値 × 活性化関数ごとの成功率",
    "Share of runs that reached ε in each init × activation cell, with the mean "
    "number of dead hidden units (constant on every training input) per run. The "
    "best cell follows the rule for best (success rate, then median epochs to ε, "
    "then test accuracy; ties named).": (
        "初期値 × 活性化関数の各セルで ε に到達した学習の割合と、学習 1 回あたりの死んだ隠れ層ユニット"
        "（どの学習用入力にも同じ値を出す）の平均数。最良のセルは最良の規則"
        "（成功率、次に ε までのエポック数の中央値、次にテスト正解率。引き分けは併記）に従う。"
    ),
    "Learned hidden units": "学習した隠れ層のユニット",
    "Each hidden unit's 12 incoming weights drawn as a 4×3 image beside the C and T "
    "glyphs (white = ink; red = positive weight), with its threshold θ and its "
    "weights to the C and T outputs.": (
        "隠れ層の各ユニットへの 12 個の重みを、C と T の画像（白 = 文字）の横に 4×3 の画像として描く"
        "（赤 = 正の重み）。各ユニットの閾値 θ と、出力層の C と T への重みも添える。"
    ),
    "Hidden activations at initialisation": "初期値での隠れ層の出力",
    "Histograms of each hidden layer's outputs h on the training inputs at the initial "
    "weights, over the runs' seeds (the first {seeds} at most, fewer where one layer's "
    "outputs would pass {values} numbers): one row per init × activation, one column "
    "per hidden layer, as Saito's book shows for Xavier and He (figs. 6-10 to 6-14). Values "
    "piled at a bound (or at 0 for ReLU, given as a share and left out of the bars) pass no "
    "gradient back; a spread that shrinks layer by layer vanishes before the output.": (
        "重みの初期値における、学習用入力に対する各隠れ層の出力 h のヒストグラム。学習のシードにわたる"
        "（最初の {seeds} 個まで。一つの層の出力が {values} 個を超える場合はもっと少ない）。"
        "行は初期値 × 活性化関数、列は隠れ層で、斎藤の本が Xavier と He の初期値について示す図"
        "（図 6-10 から 6-14）と同じ形。値域の端（ReLU では 0。割合で示し、棒からは除く）に集まった値は"
        "勾配を逆伝播しない。層ごとに縮む広がりは出力層に届く前に消える。"
    ),
    "Learning-rate sensitivity": "学習率への感度",
    "Success rate and median training loss at stop against the learning rate per "
    "optimizer on the evaluation seeds; a star marks the best lr (chosen on the "
    "selection seeds), filled markers the good range (within the practical margin of the "
    "best: see the learning-rate section).": (
        "評価用シードでの、勾配法ごとの学習率 η に対する成功率と停止時の訓練誤差の中央値。"
        "星は最良の学習率（選択用シードで選んだもの）、塗りつぶした印は良い範囲（最良との差が実用上の幅に収まる。"
        "学習率の節を参照）。"
    ),
    # ---- the Answer
    "## Answer": "## 答え",
    "{estimate} points [{lo}, {hi}]": "{estimate} ポイント [{lo}, {hi}]",
    "{metric} a ratio within ×{ratio} either way ({share} %)": "{metric}は比がどちら向きにも ×{ratio} 以内（{share} %）",
    "{metric} ±{points} points": "{metric} ±{points} ポイント",
    "{level} better": "{level} が優れる",
    "{a} against {b}: ": "{a} の {b} に対する効果: ",
    "no practical difference between {level} and any other level": "{level} とほかのどの水準の間にも実用上の差はない",
    "best level {level} (no other level is better by more than the margin)": (
        "最良の水準は {level}（ほかのどの水準も実用上の幅を超えて優れてはいない）"
    ),
    "no level is better than every other; compared with {level}": (
        "ほかのすべてより優れる水準はない。{level} と比べると"
    ),
    " Share of runs that reached ε: {shares}.": "ε に到達した学習の割合: {shares}。",
    "**{factor}** (each level against the next lower one): ": "**{factor}**（各水準をすぐ下の水準と比べる）: ",
    " Over {levels} ({seeds} seeds, Page's trend test): {said}.": (
        "{levels} にわたって（シード {seeds} 個、Page の傾向検定）: {said}。"
    ),
    " Against the largest ({top}), the smallest level practically as good on every metric is {level}": (
        "最大の水準（{top}）と比べて、どの指標でも実用上同等な最小の水準は {level}"
    ),
    " No smaller level is practically as good as the largest ({top}) on every metric": (
        "どの指標でも最大の水準（{top}）と実用上同等な、より小さい水準はない"
    ),
    "; on {metric} alone: {level}": "。{metric}だけなら {level}",
    "**Cost**: the ranking counts {ranks}; the best configuration needs {units}.": (
        "**コスト**: 順位は{ranks}で数える。最良の設定に要したのは {units}。"
    ),
    " Counted in {unit}, the cheapest is config {config} ({levels}): {units}.": (
        "{unit}で数えると最も安いのは設定 {config}（{levels}）: {units}。"
    ),
    "any {factor}": "{factor} はどれでも",
    "{n} hidden layers": "隠れ層 {n} 層",
    "{n} hidden layer": "隠れ層 {n} 層",
    "{shape} and smaller": "{shape} とそれより小さいもの",
    "{layers} at most": "最大で{layers}",
    "with every activation": "どの活性化関数でも",
    "with {names}": "{names} で",
    "{init} fails to learn {where} (its median run: {ends})": "{init} は{where}学習できない（中央の学習: {ends}）",
    "{activation} ends at {kept} of its initial loss, {right} right": (
        "{activation} で最後は初期の誤差の {kept}、正解 {right}"
    ),
    "{activation} diverges": "{activation} で発散",
    "A cell learns when its median run keeps at most {learned} of its initial train loss and gets at least "
    "{halfway} of the training images right (half-way from a guess's {guess}); a diverged run keeps all "
    "its loss and gets none right.": (
        "中央の学習が初期の訓練誤差の {learned} 以下に下がり、訓練画像の {halfway} 以上に正解する"
        "（当て推量の {guess} から全問正解までの半分）とき、そのセルは学習するとみなす。"
        "発散した学習は誤差をすべて残し、正解なしと数える。"
    ),
    "every other cell learns": "ほかのセルはすべて学習する",
    "every init learns with every activation": "どの初期値もどの活性化関数でも学習する",
    " (median final train loss {low}–{high} of the initial)": "（最終の訓練誤差の中央値は初期の {low}–{high}）",
    "**Initial values in this {shape} network ({layers})**: ": "**この {shape} ネットワーク（{layers}）での初期値**: ",
    "init with {activation}": "{activation} での初期値",
    "reached ε in {share} of its runs, median epochs to ε {epochs}, ": (
        "学習の {share} が ε に到達、ε までのエポック数の中央値 {epochs}、"
    ),
    "median {unit} to ε {cost}, ": "ε までの{unit}の中央値 {cost}、",
    "mean test accuracy {accuracy} %": "テスト正解率の平均 {accuracy} %",
    "**Best configuration**: config {config}": "**最良の設定**: 設定 {config}",
    ": {outcome}.": ": {outcome}。",
    " Practically tied with it (not worse by more than the margins at {level}): "
    "{n} of the other {others} configurations ({tied}); together they share: {shared}.": (
        "これと実用上引き分け（{level} で実用上の幅を超えて劣らない）なのは、ほかの {others} 設定のうち {n} 設定"
        "（{tied}）。これらに共通するのは: {shared}。"
    ),
    " Every other configuration is worse by more than a margin.": "ほかの設定はすべて実用上の幅を超えて劣る。",
    "Each effect is \"A against B\": A's epochs or loss as a ratio to B's (below 1: A needs fewer), "
    "A's accuracy minus B's in points; the Hodges–Lehmann estimate of the per-seed differences "
    "with its {level} interval. Margins: {margins} (see the methods below).": (
        "効果はどれも「A の B に対する効果」: エポック数や誤差は A の B に対する比（1 未満なら A の方が少ない）、"
        "正解率は A から B を引いたポイント。シードごとの差の Hodges–Lehmann 推定値とその {level} 区間。"
        "実用上の幅: {margins}（下の方法を参照）。"
    ),
    "**Caveats**": "**注意**",
    "**Warning**: {edge}": "**警告**: {edge}",
    "low": "下",
    "high": "上",
    "optimizer {optimizer}: the best lr, {lr}, is the {side} end of its grid "
    "({grid}); a better lr may lie outside it.": (
        "勾配法 {optimizer}: 最良の学習率 {lr} は格子（{grid}）の{side}端にある。より良い学習率は格子の外にあるかもしれない。"
    ),
    "{factor}: the best configuration's {factor}, {value}, is the {side} end of its "
    "grid ({grid}); a better value may lie outside it.": (
        "{factor}: 最良の設定の {factor} = {value} は格子（{grid}）の{side}端にある。より良い値は格子の外にあるかもしれない。"
    ),
    "The task is easy at this size: the best configuration reaches ε in a median of "
    "{epochs} epochs, so a difference in epochs is often one epoch.": (
        "この規模では課題がやさしい: 最良の設定は中央値 {epochs} エポックで ε に到達するので、"
        "エポック数の差はしばしば 1 エポックである。"
    ),
    "Initial values: the textbook's contrasts (std 0.01 fails to learn, He suits ReLU) come "
    "from a network of four or five hidden layers of 100 units; with one hidden layer one "
    "backpropagation step still gets a usable gradient, so they need not show here. "
    "experiments/depth_init.toml asks the same question in the book's network.": (
        "初期値: 教科書の対比（標準偏差 0.01 では学習できない、He の初期値は ReLU に合う）は 100 ユニットの隠れ層が"
        " 4〜5 層あるネットワークのもの。隠れ層が 1 層なら誤差逆伝播法の一歩でも使える勾配が得られるので、"
        "ここでは現れなくてよい。experiments/depth_init.toml が同じ問いを本のネットワークで調べる。"
    ),
    "Initial values at two depths: experiments/init.toml asks the same question of the "
    "lecture's one hidden layer of 3 units; docs/experiments.md quotes both answers side by side.": (
        "二つの深さでの初期値: experiments/init.toml が同じ問いを講義の隠れ層 1 層 3 ユニットで調べる。"
        "docs/experiments.md に両方の答えを並べて引いた。"
    ),
    # ---- verdicts, trends, notes, units, objectives: values of the CSV tables, shown in words
    "no practical difference": "実用上の差なし",
    "inconclusive": "決め手なし",
    "the other level wins more blocks": "もう一方の水準の方が多くのブロックで勝つ",
    "increasing": "増加",
    "decreasing": "減少",
    "no monotone trend": "単調な傾向なし",
    "epochs": "エポック数",
    "updates": "更新回数",
    "updates (grad_evals)": "更新回数（grad_evals）",
    "sample-gradients": "サンプル勾配数",
    "epochs to ε, and sample-gradients (epochs × training images) rank the same way": (
        "ε までのエポック数（サンプル勾配数 = エポック数 × 学習用画像の枚数でも順位は同じ）"
    ),
    "sample-gradients to ε (epochs × training images; they rank as epochs do)": (
        "ε までのサンプル勾配数（エポック数 × 学習用画像の枚数。順位はエポック数と同じ）"
    ),
    "updates (grad_evals) to ε": "ε までの更新回数（grad_evals）",
    # ---- figure labels, legends and facts
    "all runs": "全学習",
    "{label}: {share} never": "{label}: {share} 未到達",
    "epoch (log scale)": "エポック（対数目盛）",
    "training loss E (log scale)": "訓練誤差 E（対数目盛）",
    "share of runs\nnot yet below ε": "まだ ε を下回らない\n学習の割合",
    "Learning curves: median and interquartile band of the training loss": "学習曲線: 訓練誤差 E の中央値と四分位範囲の帯",
    "{label}: {share} of {n}": "{label}: {n} 回中 {share}",
    "epoch k (log scale)": "エポック k（対数目盛）",
    "fraction of runs with E < ε": "E < ε となった学習の割合",
    "Runs that reached ε{value} by epoch k": "エポック k までに ε{value} に到達した学習",
    "gap {gap}": "差 {gap}",
    "error rate, % (1 − accuracy; log above {linear} %)": "誤り率 %（1 − 正解率。{linear} % より上は対数）",
    "Train vs test error by regularisation, one dot per seed (gap = overfitting)": (
        "正則化ごとの学習データとテストデータの誤り率、点はシードごと（差 = 過学習）"
    ),
    "train error": "学習データの誤り率",
    "test error": "テストデータの誤り率",
    "median seed": "中央のシード",
    "epoch": "エポック",
    "train − test accuracy (median run)": "学習データ − テストデータの正解率（中央の学習）",
    "The gap over the epochs": "エポックにわたる差",
    "{share}\n{dead} dead": "{share}\n死んだユニット {dead}",
    "success rate (fraction reaching ε)": "成功率（ε に到達した割合）",
    "Success rate by {rows} × {cols}\n(text: success rate, mean dead hidden units per run)": (
        "{rows} × {cols} ごとの成功率\n（文字: 成功率、学習 1 回あたりの死んだ隠れ層ユニットの平均数）"
    ),
    "glyph {letter}": "文字 {letter}",
    "hidden {i}\nθ = {theta}\nto {votes}": "ユニット H{i}\n閾値 θ = {theta}\n出力層へ {votes}",
    "pixel column": "画素の列",
    "pixel row": "画素の行",
    "weight w (input pixel → hidden unit)": "重み w（入力の画素 → 隠れ層のユニット）",
    "sat.": "飽和",
    "hidden layer {l}": "隠れ層 {l}",
    "Hidden outputs h at the initial weights\n(bars: shares of a layer's values)": (
        "重みの初期値での隠れ層の出力 h\n（棒: 層の値に占める割合）"
    ),
    "learning rate η (log scale)": "学習率 η（対数目盛）",
    "median training loss at stop (log scale)": "停止時の訓練誤差 E の中央値（対数目盛）",
    "optimizer\n(★ best, ● good)": "勾配法\n★ 最良\n● 良い範囲",
    "Learning-rate sensitivity, pooled over the other factors and seeds": "学習率への感度（ほかの要因とシードはまとめた）",
    "its slowest level needs {ratio}× the epochs to ε of its fastest (geometric "
    "means; a run that never reached ε counts as the budget + 1)": (
        "最も遅い水準は ε まで最も速い水準の {ratio} 倍のエポック数を要する（幾何平均。"
        "ε に到達しない学習は上限 + 1 として数える）"
    ),
    "its levels' mean {metric} differ by up to {points} points": "水準ごとの{metric}の平均は最大 {points} ポイント異なる",
    "Colour: {hue}": "色: {hue}",
    ", the factor with the largest effect": "（効果が最も大きい要因）",
    "; {detail}.": "。{detail}。",
    "{share}, median epochs {epochs}, test accuracy {accuracy}": "{share}、エポック数の中央値 {epochs}、テスト正解率 {accuracy}",
    " (tied with {cells})": "（{cells} と引き分け）",
    "Best cell: {cell} ({outcome}){tied}; worst: {worst} ({share}).": "最良のセル: {cell}（{outcome}）{tied}。最悪: {worst}（{share}）。",
    "By the end of the budget these shares of runs reached ε: {solved}.": "上限までに ε に到達した学習の割合: {solved}。",
    "no run reached the target loss ε": "目標誤差 ε に到達した学習がない",
    "no target loss ε was set": "目標誤差 ε が設定されていない",
    "Mean train − test accuracy gap: {gaps}.": "学習データ − テストデータの正解率の差の平均: {gaps}。",
    "the experiment does not vary regularisation": "実験が正則化を変えていない",
    "no target loss ε was set, so there is no success rate to map": "目標誤差 ε が設定されていないので、描く成功率がない",
    "the experiment varies neither init nor activation": "実験が初期値も活性化関数も変えていない",
    "params.csv is missing": "params.csv がない",
    "params.csv has no row for config {config}, seed {seed}": "params.csv に設定 {config}、シード {seed} の行がない",
    "Learned hidden units of config {config}, seed {seed}\n({levels})": (
        "設定 {config}、シード {seed} で学習した隠れ層のユニット\n（{levels}）"
    ),
    "the network's inputs are not the 4×3 C/T glyphs": "ネットワークの入力が 4×3 の C/T の画像ではない",
    "the run drawn has {depth} hidden layers; the figure draws one": "描く学習の隠れ層は {depth} 層あるが、図が描くのは 1 層",
    "the run drawn has {n} hidden units, more than the {most} the figure holds": (
        "描く学習の隠れ層には {n} ユニットあり、図に収まる {most} ユニットを超える"
    ),
    "The run drawn is config {config}, seed {seed} ({levels}; test accuracy {accuracy}).": (
        "描いた学習は設定 {config}、シード {seed}（{levels}。テスト正解率 {accuracy}）。"
    ),
    "the data settings are unknown (no manifest.json data)": "データの設定が分からない（manifest.json に data がない）",
    "layer 1 → {depth}": "層 1 → {depth}",
    "one hidden layer": "隠れ層 1 層",
    "Spread (standard deviation) of h, then share saturated or zero ({where}): {cells}.": (
        "h の広がり（標準偏差）、次に飽和または 0 の割合（{where}）: {cells}。"
    ),
    "Best lr: {best}.": "最良の学習率: {best}。",
    "the experiment has no learning-rate axis": "実験に学習率の軸がない",
    # ---- tuning
    "## Tuning": "## チューニング",
    "expected running time to ε on the training set (all epochs run by a trial's runs per run "
    "that reached ε; +∞ without one), lower is better": (
        "学習データで ε までの期待実行時間（試行の学習が走らせた全エポック数を ε に到達した学習の数で割る。"
        "到達がなければ +∞）。小さいほど良い"
    ),
    "ERT (epochs)": "ERT（エポック数）",
    "median validation loss over the trial's runs (a diverged run counts as +∞), lower is better": (
        "試行の学習の検証誤差の中央値（発散した学習は +∞）。小さいほど良い"
    ),
    "median validation loss": "検証誤差の中央値",
    "mean validation accuracy over the trial's runs (a diverged run counts as 0), higher is better": (
        "試行の学習の検証正解率の平均（発散した学習は 0）。大きいほど良い"
    ),
    "mean validation accuracy": "検証正解率の平均",
    "points below the rung's best": "段の最良より下のポイント",
    "÷ the rung's best (log)": "÷ 段の最良（対数）",
    "{epochs} epochs": "{epochs} エポック",
    "no finite value (top edge)": "有限の値なし（上端）",
    "chosen": "選ばれた試行",
    "Tuning: each trial's objective at the last rung it reached (colour),\n"
    "relative to the best trial of that rung; tuned range shaded": (
        "チューニング: 各試行が最後に達した段（色）での目的関数の値を\nその段の最良の試行と比べる。網掛けは調整した範囲"
    ),
    "- **Warning**: {group}: {key} = {value} sits at the {bound} edge of its range "
    "[{low}, {high}]; the best value may lie outside it.": (
        "- **警告**: {group}: {key} = {value} は範囲 [{low}, {high}] の{bound}端にある。最良の値は範囲の外にあるかもしれない。"
    ),
    "every combination": "すべての組み合わせ",
    "{n} seeds ({first}…{last})": "シード {n} 個（{first}…{last}）",
    "seed {seed}": "シード {seed}",
    "{n} seeds ({seeds})": "シード {n} 個（{seeds}）",
    "{trials} trials per combination, every one at the full epoch budget": (
        "組み合わせごとに {trials} 回の試行、どれもエポック数の上限まで"
    ),
    "{trials} trials per combination, by successive halving: ": "組み合わせごとに {trials} 回の試行、逐次半減法で: ",
    "{keep} trials at {epochs} epochs": "{epochs} エポックで {keep} 試行",
    "{keep} trial at {epochs} epochs": "{epochs} エポックで {keep} 試行",
    " (the best 1/{halving} of a rung go on with {halving}× the epochs)": (
        "（各段の上位 1/{halving} が {halving} 倍のエポック数で次へ進む）"
    ),
    "Before the comparison, each combination of {factors} was tuned apart, with the "
    "same budget: random search over a scrambled Sobol sequence (scipy.stats.qmc.Sobol, sampler seed "
    "{sampler_seed}; samples rounded to 4 significant digits), {budget}. Ranges "
    "(log: uniform in the logarithm): {ranges}. A trial trains each of its combination's "
    "{configs} configuration(s) on the tuning seeds, {seeds}; its objective is the {objective}; ties go to "
    "the earlier trial. The comparison then ran each combination at its best trial's settings on the "
    "evaluation seeds, {evaluation}, none of them a tuning seed, so the "
    "choice is not fitted to the seeds it is judged on. Every trial: [tuning.csv](tuning.csv).": (
        "比較の前に、{factors} の組み合わせごとに同じ予算で別々にチューニングした: "
        "スクランブルした Sobol 列によるランダム探索（scipy.stats.qmc.Sobol、サンプラーのシード {sampler_seed}。"
        "標本は有効数字 4 桁に丸める）、{budget}。範囲（log: 対数で一様）: {ranges}。"
        "試行は組み合わせの {configs} 個の設定それぞれを調整用の{seeds}で学習する。目的関数は{objective}。"
        "引き分けは先の試行を採る。比較ではその後、各組み合わせを最良の試行の設定で評価用の{evaluation}で学習した。"
        "調整用シードは一つも含まないので、選択が判定に使うシードに合わせ込まれることはない。全試行: [tuning.csv](tuning.csv)。"
    ),
    "combination": "組み合わせ",
    "![Tuning: the objective against each tuned setting, a row per combination of {factors}]({figure})": (
        "![チューニング: 調整した設定値ごとの目的関数、{factors} の組み合わせごとに一行]({figure})"
    ),
}
