output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "task_security_group_id" {
  value = aws_security_group.tasks.id
}

output "efs_arn" {
  value = aws_efs_file_system.recordings.arn
}

output "service_names" {
  value = { vmsd = aws_ecs_service.vmsd.name, nginx = aws_ecs_service.nginx.name }
}
