//! Display names of districts: the one place that maps a district's id (as sample plans and
//! enrolment codes write it) to its name. Used by every label the server shows (the
//! analysis's breakdowns, the reports, the estimate tables, the dashboard's district choice).

use crate::t;

/// Chongqing's districts and counties (and the three zones the monitoring treats as districts):
/// the id a sample plan and enrolment codes use (pinyin, lower case), the Chinese name and the
/// English one. An id not listed is shown as it is.
pub const DISTRICTS: [(&str, &str, &str); 41] = [
    ("yuzhong", "渝中区", "Yuzhong District"),
    ("dadukou", "大渡口区", "Dadukou District"),
    ("jiangbei", "江北区", "Jiangbei District"),
    ("shapingba", "沙坪坝区", "Shapingba District"),
    ("jiulongpo", "九龙坡区", "Jiulongpo District"),
    ("nanan", "南岸区", "Nan'an District"),
    ("beibei", "北碚区", "Beibei District"),
    ("yubei", "渝北区", "Yubei District"),
    ("banan", "巴南区", "Banan District"),
    ("wanzhou", "万州区", "Wanzhou District"),
    ("fuling", "涪陵区", "Fuling District"),
    ("qianjiang", "黔江区", "Qianjiang District"),
    ("changshou", "长寿区", "Changshou District"),
    ("jiangjin", "江津区", "Jiangjin District"),
    ("hechuan", "合川区", "Hechuan District"),
    ("yongchuan", "永川区", "Yongchuan District"),
    ("nanchuan", "南川区", "Nanchuan District"),
    ("qijiang", "綦江区", "Qijiang District"),
    ("dazu", "大足区", "Dazu District"),
    ("bishan", "璧山区", "Bishan District"),
    ("tongliang", "铜梁区", "Tongliang District"),
    ("tongnan", "潼南区", "Tongnan District"),
    ("rongchang", "荣昌区", "Rongchang District"),
    ("kaizhou", "开州区", "Kaizhou District"),
    ("liangping", "梁平区", "Liangping District"),
    ("wulong", "武隆区", "Wulong District"),
    ("chengkou", "城口县", "Chengkou County"),
    ("fengdu", "丰都县", "Fengdu County"),
    ("dianjiang", "垫江县", "Dianjiang County"),
    ("zhongxian", "忠县", "Zhong County"),
    ("yunyang", "云阳县", "Yunyang County"),
    ("fengjie", "奉节县", "Fengjie County"),
    ("wushan", "巫山县", "Wushan County"),
    ("wuxi", "巫溪县", "Wuxi County"),
    ("shizhu", "石柱县", "Shizhu County"),
    ("xiushan", "秀山县", "Xiushan County"),
    ("youyang", "酉阳县", "Youyang County"),
    ("pengshui", "彭水县", "Pengshui County"),
    ("liangjiang", "两江新区", "Liangjiang New Area"),
    ("gaoxin", "重庆高新区", "Chongqing High-tech Zone"),
    (
        "wansheng",
        "万盛经开区",
        "Wansheng Economic Development Zone",
    ),
];

/// A district's display name: its name when the id is a known one, otherwise the id as given.
pub fn district_name(id: &str, lang: &str) -> String {
    DISTRICTS
        .iter()
        .find(|(key, _, _)| *key == id)
        .map_or_else(|| id.to_string(), |(_, zh, en)| t(lang, zh, en).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_have_names_and_others_stay_as_given() {
        assert_eq!(district_name("yuzhong", "zh-CN"), "渝中区");
        assert_eq!(district_name("jiangbei", "en"), "Jiangbei District");
        assert_eq!(district_name("nowhere", "zh-CN"), "nowhere");
        let ids: std::collections::BTreeSet<&str> = DISTRICTS.iter().map(|d| d.0).collect();
        assert_eq!(ids.len(), DISTRICTS.len(), "no id twice");
    }
}
