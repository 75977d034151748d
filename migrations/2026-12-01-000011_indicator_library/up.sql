-- The indicator library (指标库): the definitions an indicator row's `code` names.
--
-- A row that gives a code must name one of these; a row without one is matched by name (after
-- `indicator_name_key`: full-width forms folded to ASCII, spaces and quotes dropped, lower case)
-- and the match is kept in `matched_code`. Both are foreign keys, so a definition in use cannot be
-- deleted: it is retired instead (`retired_at`), and records that use it keep it.

CREATE FUNCTION indicator_name_key(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lower(regexp_replace(translate(name,
        '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　“”‘’【】〔〕、',
        '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ""''''[][],'), '[[:space:]"'']+', '', 'g'));

CREATE FUNCTION indicator_name_keys(name text, aliases text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY(SELECT DISTINCT indicator_name_key(n) FROM unnest(array_prepend(name, aliases)) AS n
                 WHERE indicator_name_key(n) <> '');

CREATE TABLE indicator_definitions (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{1,64}$'),
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    level_1 text NOT NULL,
    level_2 text NOT NULL,
    unit_of_measure text,
    direction text CHECK (direction IN ('>=', '<=', '=')),
    kinds text[] NOT NULL CHECK (cardinality(kinds) > 0),
    aliases text[] NOT NULL DEFAULT '{}',
    scoring_method text,
    source text,
    name_keys text[] NOT NULL GENERATED ALWAYS AS (indicator_name_keys(name, aliases)) STORED,
    revision integer NOT NULL DEFAULT 1,
    retired_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT 'migration'
);
CREATE INDEX indicator_definitions_name_keys ON indicator_definitions USING gin (name_keys);
CREATE INDEX indicator_definitions_levels ON indicator_definitions (level_1, level_2, code);

-- Seeded: the seven indicators of the demo data, every indicator of the reference report
-- (荫田镇 2022) and the rows of the published tables in FORMS.md.
INSERT INTO indicator_definitions (code, name, level_1, level_2, unit_of_measure, direction, kinds, aliases, scoring_method, source) VALUES
    ('HN-01', '预算执行率', 'process', 'budget_execution', '%', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation', 'project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇整体支出绩效自评常用指标'),
    ('HN-02', '排查农村自建房屋', 'output', 'quantity', '栋', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation', 'project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇整体支出绩效自评常用指标'),
    ('HN-03', '各村聘请保洁员', 'output', 'quantity', '人', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation', 'project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇整体支出绩效自评常用指标'),
    ('HN-04', '小型水库除险加固完成率', 'output', 'quality', '%', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation', 'project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇整体支出绩效自评常用指标'),
    ('HN-05', '适龄儿童义务教育普及率', 'effect', 'social_benefit', '%', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation', 'project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇整体支出绩效自评常用指标'),
    ('HN-06', '生活垃圾无害化处理率', 'effect', 'ecological_benefit', '%', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation', 'project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇整体支出绩效自评常用指标'),
    ('HN-07', '群众满意度', 'satisfaction', 'service_satisfaction', '%', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation', 'project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇整体支出绩效自评常用指标'),
    ('HN-08', '下派乡村振兴驻村工作队', 'output', 'quantity', '支', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-09', '开展新时代文明实践活动', 'output', 'quantity', '次', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-10', '荫田水厂管网铺设完成工程量', 'output', 'quantity', '%', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-11', '荫田水厂建成后供水辐射乡镇', 'effect', 'social_benefit', '个', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-12', '湘南纺织城产业园投产后提供就业岗位', 'effect', 'social_benefit', '个', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-13', '脱贫质量集中排查户数', 'output', 'quantity', '户', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-14', '脱贫质量集中排查人数', 'output', 'quantity', '人', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-15', '发放垃圾桶', 'output', 'quantity', '个', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-16', '建立垃圾集中填埋场', 'output', 'quantity', '个', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-17', '成立环卫队', 'output', 'quantity', '个', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-18', '每天处理垃圾', 'output', 'quantity', '吨/日', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-19', '排查出“空心”闲置危房', 'output', 'quantity', '栋', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-20', '拆除“空心”闲置危房', 'output', 'quantity', '栋', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-21', '围挡警示破败房屋', 'output', 'quantity', '栋', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-22', '油茶林种植面积', 'output', 'quantity', '万亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-23', '油菜种植面积', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-24', '油菜年产值', 'effect', 'economic_benefit', '万元', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-25', '烟叶种植面积', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-26', '烟叶年产值', 'effect', 'economic_benefit', '万元', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-27', '烟叶生产预计实现本级税收', 'effect', 'economic_benefit', '万元', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-28', '水稻种植面积', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-29', '双龙村新增迷迭香药材种植', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-30', '联塘、中山、丰源种植香莲', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-31', '早稻种植面积', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-32', '丛保、红星、荫市、小泉早稻种植示范片', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-33', '晚稻种植面积', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-34', '中稻种植面积', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-35', '种粮大户', 'output', 'quantity', '户', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-36', '种粮大户种植面积', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-37', '油茶企业、合作社、大户流转经营面积', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-38', '营造林新增面积', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-39', '油茶低改', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-40', '森林抚育', 'output', 'quantity', '亩', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-41', '油菜千亩高产示范片', 'output', 'quantity', '个', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-42', '生猪存栏', 'output', 'quantity', '头', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-43', '存栏母猪', 'output', 'quantity', '头', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-44', '鸡、鸭、鹅', 'output', 'quantity', '万羽', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-45', '小二型水库除险加固', 'output', 'quantity', '座', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-46', '组织森林防火巡山人员', 'output', 'quantity', '人次', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-47', '重点区域值守监测', 'output', 'timeliness', '小时/日', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-48', '发放临时救助资金', 'output', 'quantity', '元', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-49', '走访慰问空巢老人、留守儿童', 'output', 'quantity', '人次', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-50', '保障事实无人抚养儿童', 'output', 'quantity', '人', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-51', '发放事实无人抚养儿童抚养费', 'output', 'quantity', '元', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-52', '小升初升学率', 'effect', 'social_benefit', '%', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-53', '开展安全生产大检查及打非治违行动', 'output', 'quantity', '次', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-54', '出动检查执法人员', 'output', 'quantity', '人次', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-55', '检查生产经营单位', 'output', 'quantity', '家', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-56', '排查无牌无照摩托车', 'output', 'quantity', '辆', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-57', '批评警告', 'output', 'quantity', '人', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-58', '扣押车辆', 'output', 'quantity', '辆', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-59', '发放致家长的公开信', 'output', 'quantity', '份', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-60', '制作竖立防溺水警示牌', 'output', 'quantity', '个', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-61', '开展山塘水库巡逻', 'output', 'quantity', '次', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-62', '在册吸毒人员动态管控', 'output', 'quantity', '人', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-63', '戒断三年未复吸人员', 'effect', 'social_benefit', '人', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-64', '悬挂禁毒宣传横幅', 'output', 'quantity', '条', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-65', '发放禁毒知识小手册', 'output', 'quantity', '份', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-66', '下载国家反电诈APP实名用户数', 'effect', 'social_benefit', '人', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-67', '接受社区矫正对象', 'output', 'quantity', '名', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-68', '解除社区矫正', 'output', 'quantity', '人', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-69', '化解各类社会矛盾', 'effect', 'social_benefit', '起', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-70', '化解疑难复杂纠纷', 'effect', 'social_benefit', '起', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-71', '荫田新大桥志愿服务站查验健康码和行程码', 'output', 'timeliness', '小时/日', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '荫田镇2022年度整体支出绩效自评报告'),
    ('HN-72', '党的二十大特护期间出省和赴京上访', 'effect', 'social_benefit', NULL, NULL, ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '荫田镇2022年度整体支出绩效自评报告'),
    ('HB-01', '办结信访案件', 'output', 'quantity', '起', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '通城县塘湖镇部门整体支出绩效自评表'),
    ('HB-02', '拆除活人墓、豪华墓', 'output', 'quantity', '座', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '通城县塘湖镇部门整体支出绩效自评表'),
    ('HB-03', '解决群众问题时间', 'output', 'timeliness', '天', '<=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '目标值÷实际值×分值，最高为分值', '通城县塘湖镇部门整体支出绩效自评表'),
    ('HB-04', '改善人居环境', 'effect', 'social_benefit', NULL, NULL, ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '通城县塘湖镇部门整体支出绩效自评表'),
    ('HB-05', '提升出行效率', 'effect', 'social_benefit', NULL, NULL, ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '通城县塘湖镇部门整体支出绩效自评表'),
    ('HB-06', '群众对政府工作满意度', 'satisfaction', 'service_satisfaction', '%', '>=', ARRAY['department_overall', 'department_evaluation', 'finance_evaluation']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '通城县塘湖镇部门整体支出绩效自评表'),
    ('AH-01', '基建工程委托业务项目数量', 'output', 'quantity', '个', '>=', ARRAY['project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-02', '委托业务报告合格率', 'output', 'quality', '%', '>=', ARRAY['project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-03', '经费支出合规性', 'output', 'quality', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-04', '提交报告及时性', 'output', 'timeliness', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-05', '项目总成本', 'output', 'cost', '万元', '<=', ARRAY['project']::text[], '{}'::text[], '目标值÷实际值×分值，最高为分值', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-06', '单项业务成本', 'output', 'cost', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-07', '社会效益', 'effect', 'social_benefit', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-08', '生态效益', 'effect', 'ecological_benefit', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-09', '可持续影响', 'effect', 'sustainable_impact', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-10', '补助村(社区)数量', 'output', 'quantity', '个', '=', ARRAY['project']::text[], '{}'::text[], '实际值等于目标值得满分，否则按偏离程度扣分', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-11', '保障村干部人数', 'output', 'quantity', '个', '=', ARRAY['project']::text[], '{}'::text[], '实际值等于目标值得满分，否则按偏离程度扣分', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-12', '补助资格合规性', 'output', 'quality', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '贵池区棠溪镇项目支出绩效自评表'),
    ('AH-13', '服务对象满意度', 'satisfaction', 'service_satisfaction', '%', '>=', ARRAY['project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇项目支出绩效自评常用指标'),
    ('AH-14', '补助标准执行准确率', 'output', 'quality', '%', '>=', ARRAY['project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇项目支出绩效自评常用指标'),
    ('AH-15', '资金拨付及时性', 'output', 'timeliness', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '乡镇项目支出绩效自评常用指标'),
    ('AH-16', '村级组织运转保障', 'effect', 'social_benefit', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '乡镇项目支出绩效自评常用指标'),
    ('AH-17', '村干部队伍稳定性', 'effect', 'sustainable_impact', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '乡镇项目支出绩效自评常用指标'),
    ('AH-18', '村干部满意度', 'satisfaction', 'service_satisfaction', '%', '>=', ARRAY['project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇项目支出绩效自评常用指标'),
    ('AH-19', '聘请保洁员人数', 'output', 'quantity', '人', '>=', ARRAY['project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇项目支出绩效自评常用指标'),
    ('AH-20', '生活垃圾日处理量', 'output', 'quantity', '吨/日', '>=', ARRAY['project']::text[], '{}'::text[], '实际值÷目标值×分值，最高为分值', '乡镇项目支出绩效自评常用指标'),
    ('AH-21', '垃圾清运及时性', 'output', 'timeliness', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '乡镇项目支出绩效自评常用指标'),
    ('AH-22', '村容村貌改善', 'effect', 'ecological_benefit', NULL, NULL, ARRAY['project']::text[], '{}'::text[], '定性指标：达成预期指标得满分，部分达成按比例得分，未达成不得分', '乡镇项目支出绩效自评常用指标');


-- Codes already in use that the seed does not hold become definitions of their own, from the
-- first row that uses each, so that no stored record loses its code.
INSERT INTO indicator_definitions (code, name, level_1, level_2, unit_of_measure, direction, kinds, source)
SELECT DISTINCT ON (i.code) i.code, i.name, i.level_1, i.level_2, i.unit_of_measure, i.direction,
       ARRAY['department_overall', 'department_evaluation', 'finance_evaluation', 'project'], '从已有记录迁入'
FROM evaluation_indicators i
WHERE i.code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM indicator_definitions d WHERE d.code = i.code)
ORDER BY i.code, i.evaluation_id, i.position;

ALTER TABLE evaluation_indicators
    ADD COLUMN matched_code text REFERENCES indicator_definitions (code),
    ADD CONSTRAINT evaluation_indicators_code_fkey FOREIGN KEY (code) REFERENCES indicator_definitions (code);
CREATE INDEX evaluation_indicators_code ON evaluation_indicators (code) WHERE code IS NOT NULL;
CREATE INDEX evaluation_indicators_matched_code ON evaluation_indicators (matched_code) WHERE matched_code IS NOT NULL;

-- Rows stored without a code are matched by name now, as every write from here on matches them.
UPDATE evaluation_indicators i SET matched_code = m.code
FROM (SELECT r.evaluation_id, r.position, min(d.code) AS code, count(*) AS n
      FROM evaluation_indicators r
      JOIN evaluations e ON e.id = r.evaluation_id
      JOIN indicator_definitions d ON d.name_keys @> ARRAY[indicator_name_key(r.name)] AND e.kind = ANY (d.kinds)
      WHERE r.code IS NULL
      GROUP BY r.evaluation_id, r.position) m
WHERE m.n = 1 AND i.evaluation_id = m.evaluation_id AND i.position = m.position;
