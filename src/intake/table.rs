//! Self-evaluation tables (项目支出绩效自评表, 部门整体支出绩效自评表) read by their labels.
